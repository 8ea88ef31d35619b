package llm

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Roles of a Message.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one turn of a conversation.
type Message struct {
	Role, Content string
	// Interrupted marks an assistant reply that was cut short (cancelled); Content is what had
	// been shown until then.
	Interrupted bool
}

// PlainFormat is the TemplateFamily of models chatted with as plain text completion.
const PlainFormat = "plain"

// chatFormat renders conversations into the text the model reads.
type chatFormat struct {
	name string // "chatml", "llama2", ..., or PlainFormat
	tmpl string // what llama_chat_apply_template gets; "" for plain
}

// replyMark stands in for a reply's text while rendering, to find where the reply sits in the
// template's output. It has no whitespace, so templates that trim contents leave it alone.
const replyMark = "\x1fHARK-REPLY\x1f"

// probeChat is rendered by every candidate template to find which built-in one a model's
// template is: every role appears, and two user turns show how turns are joined.
var probeChat = []Message{
	{Role: RoleSystem, Content: "S1"},
	{Role: RoleUser, Content: "U1"},
	{Role: RoleAssistant, Content: "A1"},
	{Role: RoleUser, Content: "U2"},
}

// chooseFormat picks how to format chats: the override, else the model's own template, else
// plain completion. A model template llama.cpp does not recognise also falls back to plain
// (and says so in the family name); an override it does not recognise is an error.
func chooseFormat(override, modelTemplate string) (chatFormat, error) {
	switch strings.ToLower(strings.TrimSpace(override)) {
	case "plain", "none":
		return chatFormat{name: PlainFormat}, nil
	case "":
		if strings.TrimSpace(modelTemplate) == "" {
			return chatFormat{name: PlainFormat}, nil
		}
		f, ok := recogniseTemplate(modelTemplate)
		if !ok {
			return chatFormat{name: PlainFormat + " (the model's chat template is not one llama.cpp recognises)"}, nil
		}
		return f, nil
	}
	f, ok := recogniseTemplate(override)
	if !ok {
		return chatFormat{}, fmt.Errorf("chat template %.40q is not one llama.cpp recognises; known names: %s", override, strings.Join(builtinTemplates(), ", "))
	}
	return f, nil
}

// recogniseTemplate asks llama.cpp to render the probe chat with tmpl, and names the built-in
// template that renders it the same way.
func recogniseTemplate(tmpl string) (chatFormat, bool) {
	out, ok := applyTemplate(tmpl, probeChat, true)
	if !ok {
		return chatFormat{}, false
	}
	// Contents with spaces around them tell apart the variants that strip messages.
	padded := slices.Clone(probeChat)
	for i := range padded {
		padded[i].Content = " " + padded[i].Content + " "
	}
	out, _ = applyTemplate(tmpl, padded, true)
	name := "custom"
	names := builtinTemplates()
	if slices.Contains(names, tmpl) {
		name = tmpl
	} else {
		for _, n := range names {
			if o, ok := applyTemplate(n, padded, true); ok && o == out {
				name = n
				break
			}
		}
	}
	return chatFormat{name: name, tmpl: tmpl}, true
}

// render formats msgs; addAssistant appends the opening of the assistant's reply.
func (f chatFormat) render(msgs []Message, addAssistant bool) string {
	if f.tmpl == "" {
		return renderPlain(msgs)
	}
	out, ok := applyTemplate(f.tmpl, msgs, addAssistant)
	if !ok { // recognised at load time, so this cannot happen; degrade rather than fail a turn
		return renderPlain(msgs)
	}
	return out
}

// renderPlain joins the messages as running text: the system prompt as a paragraph of its own,
// then every message continuing the text, separated by a space where neither side has one
// (the space starts the next message, which keeps tokenization the same as for one string).
func renderPlain(msgs []Message) string {
	var b strings.Builder
	for _, m := range msgs {
		if m.Role == RoleSystem {
			if m.Content != "" {
				b.WriteString(m.Content)
				b.WriteString("\n\n")
			}
			continue
		}
		s := b.String()
		if len(s) > 0 && m.Content != "" && !endsInSpace(s) && !startsWithSpace(m.Content) {
			b.WriteByte(' ')
		}
		b.WriteString(m.Content)
	}
	return b.String()
}

func endsInSpace(s string) bool {
	return s != "" && unicode.IsSpace(rune(s[len(s)-1]))
}

func startsWithSpace(s string) bool { return s != "" && unicode.IsSpace(rune(s[0])) }

// stops returns stop sequences that keep a reply from running into the next turn's markup:
// the text that opens a user turn and the text that closes the assistant's (trimmed), when the
// model writes them as plain text rather than as the special tokens that end generation.
func (f chatFormat) stops() []string {
	if f.tmpl == "" {
		return nil
	}
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	// The text closing an assistant turn, and the text opening a user turn.
	if x, ok := applyTemplate(f.tmpl, []Message{{Role: RoleUser, Content: "U"}, {Role: RoleAssistant, Content: replyMark}}, false); ok {
		if i := strings.Index(x, replyMark); i >= 0 {
			add(x[i+len(replyMark):])
		}
	}
	if x, ok := applyTemplate(f.tmpl, []Message{{Role: RoleUser, Content: replyMark}}, false); ok {
		if i := strings.Index(x, replyMark); i >= 0 {
			add(x[:i])
		}
	}
	return out
}
