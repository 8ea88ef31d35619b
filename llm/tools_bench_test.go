package llm

import (
	"encoding/json"
	"os"
	"testing"

	"hark/internal/testmodels"
)

// BenchmarkToolOverhead is the work a turn does because tools are offered, besides the
// model's own compute: rendering the conversation with the tools through llama.cpp's chat
// layer (which also builds the call grammar from the tools' schemas), making the grammar's
// sampler, and parsing the reply into text and calls. "setup" is the whole of what Send does
// before the first token (render, grammar, sampler chain), with and without the tools. The
// tools are Hark's 19 built-in ones (testdata/hark-tools.json, written by `hark tools --json`);
// the model is the tiny random Hermes-template model, whose own compute is negligible. Run:
//
//	go test ./llm -run '^$' -bench BenchmarkToolOverhead -benchtime 2s
//
// The extra prompt tokens the tools' descriptions add are the model's compute, not measured
// here: with a real model they are evaluated once and then reused from the KV cache.
func BenchmarkToolOverhead(b *testing.B) {
	m := load(b, testmodels.Llama(b, testmodels.HermesToolsLlama()), Options{ContextSize: 2048})
	raw, err := os.ReadFile("testdata/hark-tools.json")
	if err != nil {
		b.Fatal(err)
	}
	var infos []struct {
		Name, Description string
		Parameters        json.RawMessage
	}
	if err := json.Unmarshal(raw, &infos); err != nil {
		b.Fatal(err)
	}
	tools := make([]Tool, len(infos))
	for i, t := range infos {
		tools[i] = Tool{Name: t.Name, Description: t.Description, Parameters: t.Parameters}
	}
	win := []Message{{Role: RoleSystem, Content: "You are Hark, a helpful voice assistant. Answer briefly."},
		{Role: RoleUser, Content: "Set a timer for five minutes for the pasta"}}
	layer := m.format.layer
	cr, err := layer.apply(toOAI(win), toOAITools(tools), true)
	if err != nil {
		b.Fatal(err)
	}
	reply := "<tool_call>\n" + `{"name": "timer_start", "arguments": {"minutes": 5, "name": "pasta"}}` + "\n</tool_call>"
	if p, err := cr.parse(reply, false); err != nil || len(p.ToolCalls) != 1 {
		b.Fatalf("parse: %+v, %v", p, err)
	}

	b.Run("render/no-tools", func(b *testing.B) {
		for b.Loop() {
			if _, err := layer.apply(toOAI(win), nil, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("render/19-tools", func(b *testing.B) {
		for b.Loop() {
			if _, err := layer.apply(toOAI(win), toOAITools(tools), true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("grammar-sampler", func(b *testing.B) {
		for b.Loop() {
			gs, err := cr.grammarSampler(m.voc)
			if err != nil {
				b.Fatal(err)
			}
			(&sampler{grammar: gs}).free()
		}
	})
	b.Run("parse-call", func(b *testing.B) {
		for b.Loop() {
			if _, err := cr.parse(reply, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name  string
		tools []Tool
	}{{"setup/no-tools", nil}, {"setup/19-tools", tools}} {
		b.Run(c.name, func(b *testing.B) {
			g := DefaultGenOptions()
			g.Tools = c.tools
			for b.Loop() {
				r := &run{m: m, g: g}
				if err := r.useChatLayer(win); err != nil {
					b.Fatal(err)
				}
				if err := r.prepare(); err != nil {
					b.Fatal(err)
				}
				r.s.free()
			}
		})
	}
}
