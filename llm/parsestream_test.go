package llm

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"hark/internal/testmodels"
)

// streamParse feeds reply to a run piece by piece, as generate does, and returns what each
// piece emitted (the last entry: the end of the reply) and the calls found.
func streamParse(r *run, pieces []string) ([]string, []ToolCall) {
	var out []string
	for _, p := range pieces {
		out = append(out, r.contentDelta(p, true))
	}
	out = append(out, r.contentDelta("", false))
	return out, r.calls
}

func splitRunes(s string) []string {
	var out []string
	for s != "" {
		_, n := utf8.DecodeRuneInString(s)
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

// TestPlainScanMatchesParser: with the parser skipped while a reply can only be content, every
// piece emits exactly what parsing the whole reply for every piece emits, and the calls are the
// same, for plain replies, replies with calls, and text that looks like the start of a call.
func TestPlainScanMatchesParser(t *testing.T) {
	m := hermesModel(t)
	cr, err := m.format.layer.apply(toOAI([]Message{{Role: RoleUser, Content: "hi"}}), toOAITools([]Tool{lightTool}), true)
	if err != nil {
		t.Fatal(err)
	}
	if s := newPlainScan(&cr); !s.ok {
		t.Fatalf("format %s (triggers %+v): the parser cannot be skipped", cr.FormatName, cr.Triggers)
	}
	call := "<tool_call>\n{\"name\": \"set_light\", \"arguments\": {\"room\": \"hall\", \"on\": true}}\n</tool_call>"
	replies := []string{
		"The hall light is on.",
		"  Leading spaces, then words.\nA second line.\n\n",
		"\nStarts with a newline, ends with spaces   ",
		"Unicode: 你好，世界。 Ça va?",
		"A tag that is not a call: <tool> and <tool_cal and </tool_call.",
		"Sure.\n" + call,
		call,
		call + "\nDone.",
		"Two calls. " + call + call,
		"Almost a call <tool_call",
		"\t\r\n \v\f\u00a0\u3000Other white space first",
		"Broken <tool_call>\n{\"name\": broken",
	}
	for _, reply := range replies {
		for _, split := range []string{"runes", "words"} {
			t.Run(fmt.Sprintf("%.20q/%s", reply, split), func(t *testing.T) {
				pieces := splitRunes(reply)
				if split == "words" {
					pieces = strings.SplitAfter(reply, " ")
				}
				want, wantCalls := streamParse(&run{m: m, chat: &cr}, pieces)
				fast := &run{m: m, chat: &cr, scan: newPlainScan(&cr)}
				got, gotCalls := streamParse(fast, pieces)
				if !slices.Equal(got, want) {
					t.Errorf("pieces emitted\n%q\nwith the parser every time\n%q", got, want)
				}
				if len(gotCalls) != len(wantCalls) || (len(gotCalls) > 0 && gotCalls[0].Name != wantCalls[0].Name) {
					t.Errorf("calls %+v, want %+v", gotCalls, wantCalls)
				}
				if plain := !strings.Contains(reply, "<tool_call>"); fast.scan.ok != plain {
					t.Errorf("scan still plain = %v at the end of %q", fast.scan.ok, reply)
				}
			})
		}
	}
}

// BenchmarkStreamParse is the cost of taking a streamed reply's pieces (words) apart from
// tool calls, per piece, for a plain reply of 50 and of 400 words: with the parser run on the
// whole reply for every piece ("parser") the cost per piece grows with the reply, with the
// scan it does not. Run:
//
//	go test ./llm -run '^$' -bench StreamParse -benchtime 3x
func BenchmarkStreamParse(b *testing.B) {
	m := load(b, testmodels.Llama(b, testmodels.HermesToolsLlama()), Options{ContextSize: 2048})
	cr, err := m.format.layer.apply(toOAI([]Message{{Role: RoleUser, Content: "hi"}}), toOAITools([]Tool{lightTool}), true)
	if err != nil {
		b.Fatal(err)
	}
	for _, words := range []int{50, 400} {
		for _, mode := range []string{"parser", "scan"} {
			b.Run(fmt.Sprintf("%s/%d-words", mode, words), func(b *testing.B) {
				for b.Loop() {
					r := &run{m: m, chat: &cr}
					if mode == "scan" {
						r.scan = newPlainScan(&cr)
					}
					for range words {
						r.contentDelta("word ", true)
					}
					r.contentDelta("", false)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*words), "ns/piece")
			})
		}
	}
}
