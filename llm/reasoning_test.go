package llm

import (
	"context"
	"strings"
	"testing"

	"hark/internal/testmodels"
)

// thinkingTemplate is a ChatML template in the style of Qwen3 and other reasoning models: an
// assistant turn may hold its thinking between <think> and </think> before the answer, and
// the generation prompt leaves the model free to think.
const thinkingTemplate = `{%- for message in messages %}
{%- if message.role == 'assistant' %}<|im_start|>assistant
{% if message.reasoning_content %}<think>
{{ message.reasoning_content }}
</think>

{% endif %}{{ message.content }}<|im_end|>
{% else %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{%- if enable_thinking is defined and enable_thinking is false %}
<think>

</think>

{%- endif %}
{% endif %}`

func thinkingModel(t *testing.T) *Model {
	o := testmodels.TinyLlama()
	o.Name = "hark-tiny-thinking"
	o.ChatTemplate = thinkingTemplate
	o.Specials = []string{"<|im_start|>", "<|im_end|>", "<think>", "</think>"}
	o.EOS = "<|im_end|>"
	o.ContextLength = 2048
	o.Tokenizer = "gpt2"
	return load(t, testmodels.Llama(t, o), Options{ContextSize: 2048})
}

// TestReasoningParsing: a reasoning model's reply, fed to the chat layer's parser piece by
// piece as it is generated, shows only the answer; the thinking ends up in Reasoning.
func TestReasoningParsing(t *testing.T) {
	m := thinkingModel(t)
	cr, err := m.format.layer.apply(toOAI([]Message{{Role: RoleUser, Content: "What is six times seven?"}}), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if !cr.SupportsThinking {
		t.Fatalf("the chat layer does not see thinking in the template (format %s, start %q, ends %q)", cr.FormatName, cr.ThinkingStart, cr.ThinkingEnd)
	}
	for _, reply := range []string{
		"<think>\nI should count: six sevens.\n</think>\n\nThe answer is 42.",
		"<think>I should count: six sevens.</think>The answer is 42.",
	} {
		r := &run{m: m, chat: &cr}
		var shown strings.Builder
		for _, ch := range strings.SplitAfter(reply, "") {
			d := r.contentDelta(ch, true)
			if strings.Contains(d, "six sevens") || strings.Contains(d, "think>") {
				t.Fatalf("%q: thinking shown while streaming: %q", reply, d)
			}
			shown.WriteString(d)
		}
		shown.WriteString(r.contentDelta("", false))
		if got := strings.TrimSpace(shown.String()); got != "The answer is 42." {
			t.Errorf("%q: shown %q, want only the answer", reply, got)
		}
		if got := strings.TrimSpace(r.reasoning); got != "I should count: six sevens." {
			t.Errorf("%q: reasoning %q", reply, got)
		}
	}
}

// TestReasoningReply: a whole turn through Send, the model's output forced by a grammar to
// think first: Reply.Text and what was emitted are the answer alone, Reply.Reasoning the
// thinking, and the conversation keeps the answer.
func TestReasoningReply(t *testing.T) {
	m := thinkingModel(t)
	c, err := m.NewChat("")
	if err != nil {
		t.Fatal(err)
	}
	p := &pieces{t: t}
	g := GenOptions{MaxTokens: 60, Grammar: `root ::= "<think>\nI should count.\n</think>\n\nThe answer is 42."`}
	r, err := c.Send(context.Background(), "What is six times seven?", g, p.emit)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(r.Text) != "The answer is 42." || strings.TrimSpace(p.text()) != "The answer is 42." {
		t.Errorf("reply %q, emitted %q; want the answer without the thinking", r.Text, p.text())
	}
	if strings.TrimSpace(r.Reasoning) != "I should count." {
		t.Errorf("Reasoning %q", r.Reasoning)
	}
	msgs := c.Messages()
	if last := msgs[len(msgs)-1]; strings.Contains(last.Content, "I should count") {
		t.Errorf("the conversation keeps the thinking: %q", last.Content)
	}
}
