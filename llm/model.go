package llm

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	_ "hark/internal/cpucheck" // stop with a clear message on a CPU this build cannot run on
)

// FlashAttention chooses llama.cpp's attention kernel.
type FlashAttention int

const (
	// FlashAttentionAuto is the default, as in llama.cpp's own tools: llama.cpp decides (on,
	// for the CPU backend). The llama.cpp Hark builds now has a tiled CPU kernel for prompts;
	// with it off, `hark ask` evaluated a ~500-token prompt at 0.78-0.83x the speed of
	// llama-completion (which runs it on), and its compute buffer is three times the size
	// (62.5 instead of 20 MiB for the 100M bench model at batch 512).
	FlashAttentionAuto FlashAttention = iota
	FlashAttentionOn
	FlashAttentionOff
)

// MaxBatchSize bounds Options.BatchSize: prompts are evaluated in batches of at most this many
// tokens, so a cancelled request waits for at most one batch (and the abort callback cuts
// even that short).
const MaxBatchSize = 512

// Options configure Load. The zero value picks sensible defaults.
type Options struct {
	// ContextSize is the context window in tokens: the whole conversation (system prompt,
	// turns kept, the reply being written) must fit in it. 0 = 4096. It is capped by the
	// model's training context. llama.cpp rounds it up to a multiple of 256 (Info.ContextSize
	// is the size in use).
	ContextSize int
	// Threads used while generating; 0 = the number of CPUs.
	Threads int
	// BatchThreads used while evaluating prompts; 0 = Threads.
	BatchThreads int
	// BatchSize is the prompt evaluation batch, 1..MaxBatchSize; 0 = MaxBatchSize.
	BatchSize int
	// FlashAttention: auto (default), on, or off.
	FlashAttention FlashAttention
	// ChatTemplate overrides the model's chat template: a name llama.cpp knows ("chatml",
	// "llama2", "llama3", "gemma", "phi3", "mistral-v7", ...), a Jinja template llama.cpp
	// recognises, or "plain" for plain completion. "" uses tokenizer.chat_template from the
	// file, and plain completion when the file has none.
	ChatTemplate string
	// Progress, when set, is called while the weights load, with the fraction done (0 to 1),
	// for a loading bar.
	Progress func(done float64)
}

// DefaultContextSize is the context used when Options.ContextSize is 0 (capped by the model's).
const DefaultContextSize = 4096

// Model is a loaded GGUF model with one llama.cpp context (one KV cache). Its methods are safe
// for concurrent use: requests that need the context take turns (see the package doc).
type Model struct {
	cm     cModel
	x      *cContext
	voc    vocab
	info   Info
	format chatFormat
	stops  []string // the format's turn markers, stop sequences for every chat reply

	// spacePrefix: the tokenizer puts a space before text that starts a tokenize call
	// (SentencePiece's add_space_prefix); see tokenizeCont.
	spacePrefix bool
	// guard are the tokens of "\n" at the start of a tokenize call (see tokenizePart).
	guard []token

	// turn is a one-slot semaphore: whoever holds it may use x and kv.
	turn   chan struct{}
	closed atomic.Bool
	// kv are the tokens in the KV cache, at positions 0..len(kv)-1 of sequence 0.
	kv []token
	// logitsAt is len(kv) when the context's logits are those of kv's last token (the last
	// decode ended there and the cache has not changed since), else -1: a prompt that is
	// already in the cache whole then needs no decode before its reply is sampled.
	logitsAt int
	// closing is closed by Close to stop a running request at the next token.
	closing chan struct{}
	// abortMu guards reqID and the abort flag's value (see watch).
	abortMu sync.Mutex
	reqID   uint64
}

// Load checks and maps a GGUF model file (mmap) and creates its context.
func Load(path string, opts Options) (*Model, error) {
	info, err := CheckFile(path)
	if err != nil {
		return nil, err
	}
	if opts.ContextSize < 0 || opts.Threads < 0 || opts.BatchThreads < 0 || opts.BatchSize < 0 || opts.BatchSize > MaxBatchSize {
		return nil, fmt.Errorf("llm: bad options: context %d, threads %d/%d, batch %d (batch must be 1..%d)", opts.ContextSize, opts.Threads, opts.BatchThreads, opts.BatchSize, MaxBatchSize)
	}
	if opts.ContextSize == 0 {
		opts.ContextSize = DefaultContextSize
	}
	// Positions past the training context are ones the model never saw.
	if info.TrainContext > 0 && info.TrainContext < opts.ContextSize {
		opts.ContextSize = info.TrainContext
	}
	if opts.ContextSize < 16 {
		return nil, fmt.Errorf("llm: a context of %d tokens is too small", opts.ContextSize)
	}
	if opts.Threads == 0 {
		opts.Threads = runtime.NumCPU()
	}
	if opts.BatchThreads == 0 {
		opts.BatchThreads = opts.Threads
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = MaxBatchSize
	}
	opts.BatchSize = min(opts.BatchSize, opts.ContextSize)

	initBackend()
	takeLog()
	cm, err := loadModel(path, opts.Progress)
	if err != nil {
		return nil, err
	}
	m := &Model{cm: cm, info: info, turn: make(chan struct{}, 1), closing: make(chan struct{})}
	facts := readModelFacts(m.cm)
	if !facts.hasDecoder || facts.hasEncoder {
		freeModel(m.cm)
		return nil, fmt.Errorf("llm: %s: %w: it is not a decoder-only text model", path, ErrUnsupportedModel)
	}
	m.x, err = newContext(m.cm, contextParams{nCtx: opts.ContextSize, nBatch: opts.BatchSize, threads: opts.Threads, batchThreads: opts.BatchThreads, flash: opts.FlashAttention})
	if err != nil {
		freeModel(m.cm)
		return nil, err
	}
	m.voc = vocabOf(m.cm)
	m.spacePrefix = m.detectSpacePrefix()
	if m.spacePrefix {
		m.guard, _ = m.voc.tokenize("\n", false, false)
	}
	if err := m.warmUp(); err != nil {
		m.x.free()
		freeModel(m.cm)
		return nil, fmt.Errorf("llm: %s: %w", path, err)
	}
	if m.format, err = chooseFormat(m.cm, opts.ChatTemplate, facts.template); err != nil {
		m.x.free()
		freeModel(m.cm)
		return nil, fmt.Errorf("llm: %s: %w", path, err)
	}

	m.stops = m.format.stops()
	m.info.Description = facts.desc
	m.info.Parameters = facts.params
	m.info.TemplateFamily = m.format.name
	m.info.ContextSize = m.x.nCtx()
	m.info.BatchSize = m.x.nBatch
	m.info.Threads = opts.Threads
	m.info.WeightBytes = facts.size
	m.info.KVCacheBytes = m.kvBytes(facts)
	if m.info.Layers == 0 {
		m.info.Layers = facts.layers
	}
	if m.info.Embedding == 0 {
		m.info.Embedding = facts.embd
	}
	if m.info.TrainContext == 0 {
		m.info.TrainContext = facts.trainCtx
	}
	m.info.VocabSize = m.voc.size()
	takeLog()
	return m, nil
}

// warmUp decodes one token and forgets it, as llama.cpp's own tools do before their first
// request: it faults in the mapped weights and starts the compute threads on the thread that
// decodes, work that would otherwise be counted in the first prompt's time. It makes Load one
// decode longer.
func (m *Model) warmUp() error {
	t := token(0)
	if m.voc.addsBOS() && m.voc.valid(m.voc.bos()) {
		t = m.voc.bos()
	}
	err := m.x.decode([]token{t}, 0)
	m.x.clear()
	m.logitsAt = -1
	m.x.resetPerf()
	return err
}

// kvBytes is the size of an F16 KV cache for the context: per layer and token, the keys and
// values of every KV head.
func (m *Model) kvBytes(f modelFacts) uint64 {
	if f.heads == 0 {
		return 0
	}
	arch := m.info.Architecture
	kdim := m.metaInt(arch+".attention.key_length", f.embd/f.heads)
	vdim := m.metaInt(arch+".attention.value_length", f.embd/f.heads)
	return uint64(m.info.ContextSize) * uint64(f.layers) * uint64(f.headsKV) * uint64(kdim+vdim) * 2
}

func (m *Model) metaInt(key string, def int) int {
	if s, ok := metaString(m.cm, key); ok {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
	}
	return def
}

// detectSpacePrefix reports whether tokenizing "a" yields " a" (SentencePiece vocabularies
// that add a space prefix).
func (m *Model) detectSpacePrefix() bool {
	toks, err := m.voc.tokenize("a", false, false)
	if err != nil {
		return false
	}
	var b []byte
	for _, t := range toks {
		b = m.voc.piece(b, t)
	}
	return string(b) == " a"
}

// Info describes the model and its context.
func (m *Model) Info() Info { return m.info }

// Close stops a running request at its next token, waits for it, and frees the context and
// the model. It is safe to call more than once.
func (m *Model) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	close(m.closing)
	m.abortMu.Lock()
	m.x.setAbort(true)
	m.abortMu.Unlock()
	m.turn <- struct{}{} // wait for the request in progress; nobody gets the turn after this
	m.x.free()
	m.format.free()
	freeModel(m.cm)
	return nil
}

// ErrClosed is returned by requests made after (or cut short by) Close.
var ErrClosed = errors.New("llm: the model is closed")

// acquire waits for the turn to use the context, or for ctx.
func (m *Model) acquire(ctx context.Context) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err // select would pick at random when the turn is free too
	}
	select {
	case m.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-m.closing:
		return ErrClosed
	}
	if m.closed.Load() {
		<-m.turn
		return ErrClosed
	}
	return nil
}

func (m *Model) release() { <-m.turn }

// tokenizeText tokenizes text in which contents are user-supplied strings. Template markup in
// text is parsed into special tokens; inside contents it is not, so a user cannot forge a turn
// by typing "<|im_end|>". (The common case — contents without any special-token text — is one
// tokenize call.)
//
// after is the token the text follows in the conversation (noToken at the start).
func (m *Model) tokenizeText(text string, contents []string, addSpecial bool, after token) ([]token, error) {
	var risky []string
	for _, c := range contents {
		if c != "" && strings.Contains(text, c) && m.hasSpecialText(c) {
			risky = append(risky, c)
		}
	}
	if len(risky) == 0 {
		return m.tokenizePart(text, addSpecial, true, after)
	}
	var out []token
	first := true
	last := func() token {
		if len(out) > 0 {
			return out[len(out)-1]
		}
		return after
	}
	for text != "" {
		at, which := -1, ""
		for _, c := range risky {
			if i := strings.Index(text, c); i >= 0 && (at < 0 || i < at) {
				at, which = i, c
			}
		}
		if at < 0 {
			at, which = len(text), ""
		}
		if at > 0 {
			t, err := m.tokenizePart(text[:at], addSpecial && first, true, last())
			if err != nil {
				return nil, err
			}
			out, first = append(out, t...), false
		}
		if which != "" {
			t, err := m.tokenizePart(which, addSpecial && first, false, last())
			if err != nil {
				return nil, err
			}
			out, first = append(out, t...), false
		}
		text = text[at+len(which):]
	}
	return out, nil
}

func (m *Model) hasSpecialText(s string) bool {
	toks, err := m.voc.tokenize(s, false, true)
	if err != nil {
		return true
	}
	for _, t := range toks {
		if m.voc.isControl(t) {
			return true
		}
	}
	return false
}

// noToken stands for "no token before": the text starts the conversation.
const noToken token = -1

// tokenizePart tokenizes one piece of text that follows the token after (noToken at the
// start). After a special token the tokenizer behaves as for a new text, so one call does;
// otherwise the text continues raw text. Tokenizers that put a space before the text of every call (SentencePiece's
// add_space_prefix) would turn "U1" after "\n\n" into "▁U1", unlike one call over the whole
// text; so a continuation is tokenized behind a guard ("\n", whose tokens are known and merge
// with nothing) and the guard's tokens are removed. If the guard does merge, the text is
// tokenized on its own, without its leading space if it has one.
func (m *Model) tokenizePart(text string, addSpecial, parseSpecial bool, after token) ([]token, error) {
	if after == noToken || m.voc.parsedSpecial(after) || !m.spacePrefix || text == "" {
		return m.voc.tokenize(text, addSpecial, parseSpecial)
	}
	if len(m.guard) > 0 {
		toks, err := m.voc.tokenize("\n"+text, addSpecial, parseSpecial)
		if err != nil {
			return nil, err
		}
		if len(toks) >= len(m.guard) && slices.Equal(toks[:len(m.guard)], m.guard) {
			return toks[len(m.guard):], nil
		}
	}
	return m.voc.tokenize(strings.TrimPrefix(text, " "), addSpecial, parseSpecial)
}

// Complete continues prompt as plain text (no chat template), streaming the pieces to emit.
// Each call starts from the prompt alone (the KV cache is reused as far as the tokens match).
func (m *Model) Complete(ctx context.Context, prompt string, g GenOptions, emit func(piece string) error) (Reply, error) {
	if err := m.acquire(ctx); err != nil {
		return Reply{}, err
	}
	defer m.release()
	toks, err := m.tokenizeText(prompt, []string{prompt}, true, noToken)
	if err != nil {
		return Reply{}, err
	}
	if len(toks) == 0 {
		return Reply{}, errors.New("llm: empty prompt")
	}
	r := &run{m: m, g: g, emit: emit}
	if err := r.prepare(); err != nil {
		return Reply{}, err
	}
	defer r.s.free()
	if len(toks)+1 > m.x.nCtx() {
		return Reply{}, fmt.Errorf("%w: the prompt has %d tokens; the context holds %d", ErrPromptTooLong, len(toks), m.x.nCtx())
	}
	res := r.generate(ctx, toks, nil)
	return res.reply, res.err
}
