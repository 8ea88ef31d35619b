package testmodels

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"testing"
)

// Real-size random-weight models: the shapes and file sizes of the models people run, so that
// a benchmark measures the engines' real compute (latency), not a toy's.

// BaseWhisper returns options for a model of whisper base.en's shape (state 512, 8 heads, 6
// layers: about 145 MB in F16). [Chat500M] has its words in its vocabulary, so that a
// transcript of it is about one language-model token per word, as English is.
func BaseWhisper() WhisperOptions {
	o := TinyWhisper()
	o.State, o.Heads, o.Layers, o.Seed = 512, 8, 6, 512
	// Every text token a word (whisper's 50,256 GPT-2 tokens): random weights pick among all
	// of them, and ids without a word would print as [_extra_token_N].
	o.Words = make([]string, 50256)
	for i := range o.Words {
		o.Words[i] = fmt.Sprintf(" w%d", i)
	}
	o.Words[220] = " "
	return o
}

// Chat500M returns options for a llama-architecture chat model of Qwen2.5-0.5B-Instruct's
// shape (embedding 896, 24 layers, 14 query and 2 key/value heads, feed-forward 4864, a
// 151,936-token vocabulary, ChatML) in Q8_0; quantize it to Q4_K_M with llama-quantize for the
// size people run. Every tenth synthetic word ends with a comma and every twenty-third with a
// full stop, so that a reply sampled from random weights has clauses and sentences about as
// often as real text: the speech output cuts and speaks it as it would a real reply.
func Chat500M() LlamaOptions {
	o := LlamaOptions{
		Embd: 896, FF: 4864, Layers: 24, Heads: 14, HeadsKV: 2, ContextLength: 4096,
		WeightType: TypeQ8_0, Name: "hark-chat-500m", Seed: 500,
		Specials: []string{"<|im_start|>", "<|im_end|>"}, EOS: "<|im_end|>", ChatTemplate: ChatMLTemplate,
	}
	// "▁" and "▁w" let the tokenizer build "▁w12065" by merges ("▁w", "▁w1", "▁w12", ...: every
	// prefix is a word too), so that a transcript's word is one token, as an English word
	// mostly is; without them each would be spelled in bytes.
	o.Words = []string{"▁", "▁w"}
	for _, w := range BaseWhisper().Words {
		if w != " " {
			o.Words = append(o.Words, "▁"+w[1:])
		}
	}
	const vocab = 151936
	for i := 0; len(o.Words) < vocab-3-256-len(o.Specials); i++ {
		w := fmt.Sprintf("▁t%d", i)
		switch {
		case i%23 == 22:
			w += "."
		case i%10 == 9:
			w += ","
		}
		o.Words = append(o.Words, w)
	}
	return o
}

// CacheDir is the folder for models too big to write for every test: $HARK_TEST_CACHE, or
// hark-testmodels in the system temp folder.
func CacheDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("HARK_TEST_CACHE")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "hark-testmodels")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// WhisperCached writes a random whisper model once into [CacheDir] and returns its path, as
// [LlamaCached] does for language models.
func WhisperCached(t testing.TB, o WhisperOptions) string {
	t.Helper()
	dir := CacheDir(t)
	h := fnv.New64a()
	fmt.Fprintf(h, "%+v", o)
	p := filepath.Join(dir, fmt.Sprintf("whisper-%d-%d-%016x.bin", o.State, o.Layers, h.Sum64()))
	if _, err := os.Stat(p); err == nil {
		return p
	}
	tmp, err := os.CreateTemp(dir, ".writing-*.bin")
	if err != nil {
		t.Fatal(err)
	}
	tmp.Close()
	if err := WriteWhisper(tmp.Name(), o); err != nil {
		os.Remove(tmp.Name())
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		t.Fatal(err)
	}
	return p
}
