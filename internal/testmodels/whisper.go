package testmodels

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
)

// WhisperOptions describes a random-weight whisper.cpp model in the legacy ggml .bin format.
type WhisperOptions struct {
	// State is the width of encoder and decoder (tiny: 384); Heads must divide it.
	State, Heads, Layers int
	// Words are vocabulary entries (GPT-2 byte-level text, e.g. " hello"); whisper.cpp fills the
	// rest of the 51864 English-only ids with special and timestamp tokens.
	Words []string
	Seed  uint64
	// Multilingual gives the model the 51,865-token vocabulary of whisper's multilingual
	// models, with the 99 language tokens, so that whisper.cpp detects a language with it.
	Multilingual bool
}

// TinyWhisper returns options for a model of state 64 and one layer: it loads, encodes and
// decodes in well under a second on jfk.wav.
func TinyWhisper() WhisperOptions {
	words := make([]string, 1000)
	for i := range words {
		words[i] = fmt.Sprintf(" w%d", i)
	}
	words[220] = " " // GPT-2's id of " ", which whisper.cpp's suppress_blank looks up
	return WhisperOptions{State: 64, Heads: 2, Layers: 1, Words: words, Seed: 7}
}

// WriteWhisper writes a whisper.cpp ggml model file at path.
func WriteWhisper(path string, o WhisperOptions) (err error) {
	if o.State <= 0 || o.Heads <= 0 || o.State%o.Heads != 0 || o.Layers <= 0 {
		return fmt.Errorf("testmodels: bad whisper shape state=%d heads=%d layers=%d", o.State, o.Heads, o.Layers)
	}
	const (
		audioCt = 1500
		textCt  = 448
		nMels   = 80
		nFFT    = 201
	)
	nVocab := int32(51864) // English-only layout, like tiny.en
	if o.Multilingual {
		nVocab = 51865 // like tiny: whisper.cpp counts 99 languages
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x2545f4914f6cdd1d))
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("testmodels: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("testmodels: %w", cerr)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	var werr error
	put := func(v any) {
		if werr == nil {
			werr = binary.Write(bw, binary.LittleEndian, v)
		}
	}
	st, hd, ly := int32(o.State), int32(o.Heads), int32(o.Layers)
	put(uint32(0x67676d6c)) // "ggml"
	put([]int32{nVocab, audioCt, st, hd, ly, textCt, st, hd, ly, nMels, 1 /* F16 */})
	put([]int32{nMels, nFFT})
	mel := make([]float32, nMels*nFFT)
	for i := range mel {
		mel[i] = float32(rng.Float64() * 0.01)
	}
	put(mel)
	put(int32(len(o.Words)))
	for _, w := range o.Words {
		put(uint32(len(w)))
		put([]byte(w))
	}
	tensor := func(name string, half bool, scale, fill float32, ne ...int32) {
		typ := int32(0)
		if half {
			typ = 1
		}
		put([]int32{int32(len(ne)), int32(len(name)), typ})
		put(ne)
		put([]byte(name))
		n := 1
		for _, x := range ne {
			n *= int(x)
		}
		if half {
			b := make([]uint16, n)
			for i := range b {
				b[i] = F16(fill + scale*float32(rng.NormFloat64()))
			}
			put(b)
		} else {
			b := make([]float32, n)
			for i := range b {
				b[i] = fill + scale*float32(rng.NormFloat64())
			}
			put(b)
		}
	}
	vec := func(name string, fill float32, n int32) { tensor(name, false, 0, fill, n) }
	mat := func(name string, a, b int32) { tensor(name, true, 0.02, 0, a, b) }
	block := func(p string, cross bool) {
		vec(p+"mlp_ln.weight", 1, st)
		vec(p+"mlp_ln.bias", 0, st)
		mat(p+"mlp.0.weight", st, 4*st)
		vec(p+"mlp.0.bias", 0, 4*st)
		mat(p+"mlp.2.weight", 4*st, st)
		vec(p+"mlp.2.bias", 0, st)
		attns := []string{"attn"}
		if cross {
			attns = append(attns, "cross_attn")
		}
		for _, a := range attns {
			vec(p+a+"_ln.weight", 1, st)
			vec(p+a+"_ln.bias", 0, st)
			mat(p+a+".query.weight", st, st)
			vec(p+a+".query.bias", 0, st)
			mat(p+a+".key.weight", st, st)
			mat(p+a+".value.weight", st, st)
			vec(p+a+".value.bias", 0, st)
			mat(p+a+".out.weight", st, st)
			vec(p+a+".out.bias", 0, st)
		}
	}
	tensor("encoder.positional_embedding", false, 0.02, 0, st, audioCt)
	tensor("encoder.conv1.weight", true, 0.02, 0, 3, nMels, st)
	tensor("encoder.conv1.bias", false, 0, 0, 1, st)
	tensor("encoder.conv2.weight", true, 0.02, 0, 3, st, st)
	tensor("encoder.conv2.bias", false, 0, 0, 1, st)
	vec("encoder.ln_post.weight", 1, st)
	vec("encoder.ln_post.bias", 0, st)
	for l := range o.Layers {
		block(fmt.Sprintf("encoder.blocks.%d.", l), false)
	}
	tensor("decoder.positional_embedding", false, 0.02, 0, st, textCt)
	mat("decoder.token_embedding.weight", st, nVocab)
	vec("decoder.ln.weight", 1, st)
	vec("decoder.ln.bias", 0, st)
	for l := range o.Layers {
		block(fmt.Sprintf("decoder.blocks.%d.", l), true)
	}
	if werr == nil {
		werr = bw.Flush()
	}
	if werr != nil {
		return fmt.Errorf("testmodels: write %s: %w", path, werr)
	}
	return nil
}
