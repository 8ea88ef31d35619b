package testmodels

import (
	"bufio"
	"encoding/binary"
	"fmt"

	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
)

// GGML tensor types used by the writer (values from ggml.h).
const (
	TypeF32  = 0
	TypeF16  = 1
	TypeQ4_0 = 2
	TypeQ8_0 = 8
)

// ChatMLTemplate is the Qwen2/ChatML Jinja template, as models that use it ship it.
const ChatMLTemplate = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

// Llama2ChatTemplate is the chat template Meta ships with Llama-2-chat (the Jinja text of its
// tokenizer_config.json): system prompt folded into the first user turn, BOS before every
// [INST], messages stripped.
const Llama2ChatTemplate = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"

// LlamaOptions describes a random-weight llama-architecture model.
type LlamaOptions struct {
	Embd, FF, Layers, Heads, HeadsKV int
	ContextLength                    int
	// WeightType is the type of the large matrices (TypeQ4_0, TypeQ8_0, TypeF16 or TypeF32).
	WeightType int
	// Words are vocabulary entries after the 256 byte tokens, in SentencePiece form ("▁word").
	// When fewer than MinVocab entries result, synthetic words pad the vocabulary.
	Words    []string
	MinVocab int
	// Specials are control tokens (e.g. "<|im_start|>") added at the end of the vocabulary.
	Specials []string
	// EOS names the end-of-sequence token; "" means "</s>".
	EOS          string
	ChatTemplate string
	Name         string
	Seed         uint64
	// Architecture is general.architecture and the prefix of the hyper-parameter keys; "" =
	// "llama". Other values describe files llama.cpp will not run (for error-path tests).
	Architecture string
	// Tokenizer is "llama" (SentencePiece with byte fallback, as Llama 2, Mistral v1-v3,
	// Gemma, Phi-3; the default) or "gpt2" (byte-level BPE without merges, as Llama 3,
	// Qwen2, SmolLM, Mistral tekken use: every byte is a token, Words are reachable by
	// sampling only).
	Tokenizer string
}

// TinyLlama returns options for a ~0.1M-parameter model that loads in milliseconds.
func TinyLlama() LlamaOptions {
	return LlamaOptions{
		Embd: 64, FF: 128, Layers: 2, Heads: 2, HeadsKV: 2, ContextLength: 512,
		WeightType: TypeQ8_0, MinVocab: 384, Name: "hark-tiny-random-llama", Seed: 1,
		Words: []string{"▁", "▁hello", "▁world", "▁yes", "▁no", "▁the", "▁a", "▁is", "▁it", "▁what",
			"▁time", "▁turn", "▁on", "▁off", "▁light", "▁kitchen", "h", "e", "l", "o", "w", "r", "d", "y", "s", "n", "t", "a", "i"},
	}
}

// ChatMLLlama is TinyLlama with ChatML special tokens, a ChatML template and <|im_end|> as EOS.
func ChatMLLlama() LlamaOptions {
	o := TinyLlama()
	o.Name = "hark-tiny-random-chatml"
	o.Specials = []string{"<|im_start|>", "<|im_end|>"}
	o.EOS = "<|im_end|>"
	o.ChatTemplate = ChatMLTemplate
	return o
}

// HermesToolsTemplate is a ChatML template with tools in the Hermes/Qwen2.5 style: the tools
// as JSON in the system turn, calls as JSON inside <tool_call> tags, results as
// <tool_response> in a user turn.
const HermesToolsTemplate = `{%- if tools %}<|im_start|>system
{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}

{% endif %}# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>{% for tool in tools %}
{{ tool | tojson }}{% endfor %}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call><|im_end|>
{% elif messages[0]['role'] == 'system' %}<|im_start|>system
{{ messages[0]['content'] }}<|im_end|>
{% endif %}{% for message in messages %}{% if message.role == 'user' or (message.role == 'assistant' and not message.tool_calls) %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% elif message.role == 'assistant' %}<|im_start|>assistant{% if message.content %}
{{ message.content }}{% endif %}{% for tool_call in message.tool_calls %}{% if tool_call.function is defined %}{% set tool_call = tool_call.function %}{% endif %}
<tool_call>
{"name": "{{ tool_call.name }}", "arguments": {{ tool_call.arguments | tojson }}}
</tool_call>{% endfor %}<|im_end|>
{% elif message.role == 'tool' %}{% if loop.index0 == 0 or messages[loop.index0 - 1].role != 'tool' %}<|im_start|>user{% endif %}
<tool_response>
{{ message.content }}
</tool_response>{% if loop.last or messages[loop.index0 + 1].role != 'tool' %}<|im_end|>
{% endif %}{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant
{% endif %}`

// HermesToolsLlama is TinyLlama with HermesToolsTemplate, so that llama.cpp's chat layer
// offers tools to it and parses its calls.
func HermesToolsLlama() LlamaOptions {
	o := TinyLlama()
	o.Name = "hark-tiny-hermes-tools"
	o.ChatTemplate = HermesToolsTemplate
	o.Specials = []string{"<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>"}
	o.EOS = "<|im_end|>"
	o.ContextLength = 2048
	o.Tokenizer = "gpt2" // byte-level BPE, as Qwen's: "assistant" after <|im_start|> has no space
	// A plain token for the text that opens a call, so that a random model writes it now and
	// then (real models of the family write it when they call a tool).
	o.Words = append(slices.Clone(o.Words), "<tool_call>\n")
	return o
}

// Bench100M returns options for a ~100M-parameter model with Q4_0 layer weights (embedding
// and output in Q8_0), about 60 MB: big enough that the engine's speed, not Hark's overhead,
// dominates a benchmark, small enough to write in a second.
func Bench100M() LlamaOptions {
	return LlamaOptions{
		Embd: 768, FF: 2048, Layers: 12, Heads: 12, HeadsKV: 12, ContextLength: 2048,
		WeightType: TypeQ4_0, MinVocab: 8192, Name: "hark-bench-100m-q4_0", Seed: 100,
		Words: TinyLlama().Words,
	}
}

// Token types of llama.cpp's SentencePiece vocabulary.
const (
	tokNormal  = 1
	tokUnknown = 2
	tokControl = 3
	tokByte    = 6
)

// WriteLlama writes a GGUF file at path.
func WriteLlama(path string, o LlamaOptions) error {
	if o.Embd%32 != 0 || o.FF%32 != 0 || o.Heads <= 0 || o.Embd%o.Heads != 0 || o.HeadsKV <= 0 || o.Heads%o.HeadsKV != 0 {
		return fmt.Errorf("testmodels: bad llama shape embd=%d ff=%d heads=%d/%d", o.Embd, o.FF, o.Heads, o.HeadsKV)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	bpe := o.Tokenizer == "gpt2"
	if o.Tokenizer != "" && o.Tokenizer != "llama" && !bpe {
		return fmt.Errorf("testmodels: unknown tokenizer %q", o.Tokenizer)
	}
	tokens := []string{"<unk>", "<s>", "</s>"}
	types := []int32{tokUnknown, tokControl, tokControl}
	byteChars := gpt2ByteChars()
	for i := range 256 {
		if bpe {
			tokens = append(tokens, string(byteChars[i]))
			types = append(types, tokNormal)
		} else {
			tokens = append(tokens, fmt.Sprintf("<0x%02X>", i))
			types = append(types, tokByte)
		}
	}
	words := append([]string(nil), o.Words...)
	for len(tokens)+len(words)+len(o.Specials) < o.MinVocab {
		words = append(words, fmt.Sprintf("▁tok%d", len(words)))
	}
	seen := map[string]bool{}
	for _, t := range tokens {
		seen[t] = true
	}
	for _, w := range words {
		if bpe { // "▁word" is "Ġword" in GPT-2's byte-level alphabet
			var b strings.Builder
			for _, c := range []byte(strings.ReplaceAll(w, "▁", " ")) {
				b.WriteRune(byteChars[c])
			}
			w = b.String()
		}
		if seen[w] {
			continue
		}
		seen[w] = true
		tokens = append(tokens, w)
		types = append(types, tokNormal)
	}
	eos := 2
	for _, s := range o.Specials {
		if s == o.EOS {
			eos = len(tokens)
		}
		tokens = append(tokens, s)
		types = append(types, tokControl)
	}
	nVocab := len(tokens)
	scores := make([]float32, nVocab)
	for i := range scores {
		scores[i] = -float32(i)
	}
	name := o.Name
	if name == "" {
		name = "hark-random-llama"
	}
	arch := o.Architecture
	if arch == "" {
		arch = "llama"
	}
	kv := map[string]any{
		"general.architecture":                     arch,
		"general.name":                             name,
		"general.alignment":                        uint32(32),
		arch + ".context_length":                   uint32(o.ContextLength),
		arch + ".embedding_length":                 uint32(o.Embd),
		arch + ".block_count":                      uint32(o.Layers),
		arch + ".feed_forward_length":              uint32(o.FF),
		arch + ".attention.head_count":             uint32(o.Heads),
		arch + ".attention.head_count_kv":          uint32(o.HeadsKV),
		arch + ".attention.layer_norm_rms_epsilon": float32(1e-5),
		arch + ".rope.dimension_count":             uint32(o.Embd / o.Heads),
		arch + ".vocab_size":                       uint32(nVocab),
		"tokenizer.ggml.model":                     map[bool]string{false: "llama", true: "gpt2"}[bpe],
		"tokenizer.ggml.tokens":                    tokens,
		"tokenizer.ggml.scores":                    scores,
		"tokenizer.ggml.token_type":                types,
		"tokenizer.ggml.bos_token_id":              uint32(1),
		"tokenizer.ggml.eos_token_id":              uint32(eos),
		"tokenizer.ggml.unknown_token_id":          uint32(0),
	}
	if o.ChatTemplate != "" {
		kv["tokenizer.chat_template"] = o.ChatTemplate
	}
	if bpe {
		kv["tokenizer.ggml.merges"] = []string{}
		kv["tokenizer.ggml.pre"] = "default"
		kv["tokenizer.ggml.add_bos_token"] = true
		delete(kv, "tokenizer.ggml.scores")
	}
	kvDim := o.Embd / o.Heads * o.HeadsKV
	wt := o.WeightType
	ts := []tensor{
		{"token_embd.weight", TypeQ8_0, []int{o.Embd, nVocab}},
		{"output_norm.weight", TypeF32, []int{o.Embd}},
		{"output.weight", TypeQ8_0, []int{o.Embd, nVocab}},
	}
	for l := range o.Layers {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts,
			tensor{p + "attn_norm.weight", TypeF32, []int{o.Embd}},
			tensor{p + "attn_q.weight", wt, []int{o.Embd, o.Embd}},
			tensor{p + "attn_k.weight", wt, []int{o.Embd, kvDim}},
			tensor{p + "attn_v.weight", wt, []int{o.Embd, kvDim}},
			tensor{p + "attn_output.weight", wt, []int{o.Embd, o.Embd}},
			tensor{p + "ffn_norm.weight", TypeF32, []int{o.Embd}},
			tensor{p + "ffn_gate.weight", wt, []int{o.Embd, o.FF}},
			tensor{p + "ffn_up.weight", wt, []int{o.Embd, o.FF}},
			tensor{p + "ffn_down.weight", wt, []int{o.FF, o.Embd}},
		)
	}
	return writeGGUF(path, kv, ts, rng)
}

// gpt2ByteChars is GPT-2's byte-to-character table: printable bytes stand for themselves, the
// others (space, control bytes, ...) for characters from U+0100 on.
func gpt2ByteChars() [256]rune {
	var out [256]rune
	next := rune(256)
	for b := range 256 {
		switch {
		case b >= '!' && b <= '~', b >= 0xA1 && b <= 0xAC, b >= 0xAE && b <= 0xFF:
			out[b] = rune(b)
		default:
			out[b] = next
			next++
		}
	}
	return out
}

type tensor struct {
	name  string
	typ   int
	shape []int
}

func (t tensor) elems() int {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	return n
}

func (t tensor) bytes() int {
	n := t.elems()
	switch t.typ {
	case TypeF32:
		return 4 * n
	case TypeF16:
		return 2 * n
	case TypeQ4_0:
		return n / 32 * 18
	case TypeQ8_0:
		return n / 32 * 34
	}
	panic(fmt.Sprintf("testmodels: unsupported tensor type %d", t.typ))
}

const ggufAlign = 32

// writeGGUF writes GGUF version 3: header, key/values in sorted order, tensor infos, then the
// tensor data, each piece aligned to 32 bytes.
func writeGGUF(path string, kv map[string]any, ts []tensor, rng *rand.Rand) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("testmodels: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("testmodels: %w", cerr)
		}
	}()
	w := &ggufWriter{w: bufio.NewWriterSize(f, 1<<20)}
	w.put(uint32(0x46554747)) // "GGUF"
	w.put(uint32(3))
	w.put(uint64(len(ts)))
	w.put(uint64(len(kv)))
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.str(k)
		w.value(kv[k])
	}
	off := 0
	for _, t := range ts {
		w.str(t.name)
		w.put(uint32(len(t.shape)))
		for _, d := range t.shape {
			w.put(uint64(d))
		}
		w.put(uint32(t.typ))
		w.put(uint64(off))
		off += pad(t.bytes())
	}
	w.align()
	for _, t := range ts {
		w.randomData(t, rng)
		w.align()
	}
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if w.err != nil {
		return fmt.Errorf("testmodels: write %s: %w", path, w.err)
	}
	return nil
}

func pad(n int) int { return (n + ggufAlign - 1) / ggufAlign * ggufAlign }

type ggufWriter struct {
	w   *bufio.Writer
	n   int
	err error
}

func (g *ggufWriter) put(v any) {
	if g.err != nil {
		return
	}
	g.err = binary.Write(g.w, binary.LittleEndian, v)
	g.n += binary.Size(v)
}

func (g *ggufWriter) raw(b []byte) {
	if g.err != nil {
		return
	}
	_, g.err = g.w.Write(b)
	g.n += len(b)
}

func (g *ggufWriter) str(s string) {
	g.put(uint64(len(s)))
	g.raw([]byte(s))
}

func (g *ggufWriter) align() {
	if r := g.n % ggufAlign; r != 0 {
		g.raw(make([]byte, ggufAlign-r))
	}
}

// GGUF value types.
const (
	gUint32  = 4
	gInt32   = 5
	gFloat32 = 6
	gBool    = 7
	gString  = 8
	gArray   = 9
)

func (g *ggufWriter) value(v any) {
	switch x := v.(type) {
	case uint32:
		g.put(uint32(gUint32))
		g.put(x)
	case int32:
		g.put(uint32(gInt32))
		g.put(x)
	case float32:
		g.put(uint32(gFloat32))
		g.put(x)
	case bool:
		g.put(uint32(gBool))
		g.put(x)
	case string:
		g.put(uint32(gString))
		g.str(x)
	case []string:
		g.put(uint32(gArray))
		g.put(uint32(gString))
		g.put(uint64(len(x)))
		for _, s := range x {
			g.str(s)
		}
	case []float32:
		g.put(uint32(gArray))
		g.put(uint32(gFloat32))
		g.put(uint64(len(x)))
		g.put(x)
	case []int32:
		g.put(uint32(gArray))
		g.put(uint32(gInt32))
		g.put(uint64(len(x)))
		g.put(x)
	default:
		panic(fmt.Sprintf("testmodels: unsupported GGUF value %T", v))
	}
}

// randomData writes t's data: norms are ones, everything else small random values.
func (g *ggufWriter) randomData(t tensor, rng *rand.Rand) {
	n := t.elems()
	buf := make([]byte, 0, t.bytes())
	switch t.typ {
	case TypeF32:
		for range n {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(1))
		}
	case TypeF16:
		for range n {
			buf = binary.LittleEndian.AppendUint16(buf, F16(0.02*float32(rng.NormFloat64())))
		}
	case TypeQ8_0:
		for range n / 32 {
			buf = binary.LittleEndian.AppendUint16(buf, F16(0.002))
			for range 32 {
				buf = append(buf, byte(int8(rng.IntN(255)-127)))
			}
		}
	case TypeQ4_0:
		for range n / 32 {
			buf = binary.LittleEndian.AppendUint16(buf, F16(0.02))
			for range 16 {
				buf = append(buf, byte(rng.IntN(256)))
			}
		}
	}
	g.raw(buf)
}

// F16 converts a float32 in the normal half-precision range to IEEE 754 binary16 (truncating).
func F16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int((b>>23)&0xff) - 127 + 15
	man := uint16((b >> 13) & 0x3ff)
	if exp <= 0 {
		return sign
	}
	if exp >= 31 {
		return sign | 0x7c00
	}
	return sign | uint16(exp)<<10 | man
}
