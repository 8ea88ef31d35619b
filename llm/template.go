package llm

import (
	"encoding/json"
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
	RoleTool      = "tool" // the result of a tool call (see Chat.SendToolResults)
)

// Message is one turn of a conversation.
type Message struct {
	Role, Content string
	// Interrupted marks an assistant reply that was cut short (cancelled); Content is what had
	// been shown until then.
	Interrupted bool
	// ToolCalls are the calls an assistant message made; ToolCallID and ToolName mark a
	// RoleTool message as the result of one.
	ToolCalls            []ToolCall
	ToolCallID, ToolName string
}

// PlainFormat is the TemplateFamily of models chatted with as plain text completion.
const PlainFormat = "plain"

// chatFormat renders conversations into the text the model reads.
type chatFormat struct {
	name string // "chatml", "llama3", ... (llama.cpp's name for the family), "jinja", or PlainFormat
	// layer renders with llama.cpp's chat layer (the Jinja template); nil for plain text and
	// for a built-in template name given as an override, which tmpl holds.
	layer *chatLayer
	tmpl  string
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
// plain completion. Templates are rendered by llama.cpp's chat layer (Jinja, with llama.cpp's
// fixes for templates that lack a system role and the like); a built-in name other than
// chatml given as the override is rendered by llama_chat_apply_template. A model template that
// does not render a chat falls back to plain (and says so in the family name); an override that
// does not is an error.
func chooseFormat(m cModel, override, modelTemplate string) (chatFormat, error) {
	ov := strings.TrimSpace(override)
	switch strings.ToLower(ov) {
	case "plain", "none":
		return chatFormat{name: PlainFormat}, nil
	case "":
		if strings.TrimSpace(modelTemplate) == "" {
			return chatFormat{name: PlainFormat}, nil
		}
		f, err := jinjaFormat(m, "", modelTemplate)
		if err != nil {
			return chatFormat{name: PlainFormat + " (the model's chat template does not render: " + err.Error() + ")"}, nil
		}
		return f, nil
	}
	if ov != "chatml" && slices.Contains(builtinTemplates(), ov) {
		f := chatFormat{name: ov, tmpl: ov}
		if _, ok := applyTemplate(ov, probeChat, true); !ok {
			return chatFormat{}, fmt.Errorf("llama.cpp cannot render chat template %q", ov)
		}
		return f, nil
	}
	f, err := jinjaFormat(m, override, override)
	if err != nil {
		return chatFormat{}, fmt.Errorf("chat template %.40q is not one llama.cpp can use (%v); known names: %s", override, err, strings.Join(builtinTemplates(), ", "))
	}
	return f, nil
}

// jinjaFormat loads a template into llama.cpp's chat layer and checks that it renders a chat:
// every message of probeChat must appear in the output.
func jinjaFormat(m cModel, override, source string) (chatFormat, error) {
	layer, err := newChatLayer(m, override)
	if err != nil {
		return chatFormat{}, err
	}
	f := chatFormat{name: "jinja", layer: layer}
	out, err := f.renderErr(probeChat, true)
	if err == nil {
		for _, msg := range probeChat {
			if !strings.Contains(out, msg.Content) {
				err = fmt.Errorf("its output %.60q lacks the messages", out)
				break
			}
		}
	}
	if err != nil {
		layer.free()
		return chatFormat{}, err
	}
	if name, ok := recogniseTemplate(source); ok {
		f.name = name
	}
	return f, nil
}

// free releases the chat layer's templates.
func (f *chatFormat) free() { f.layer.free() }

// recogniseTemplate names the built-in llama.cpp template that renders the probe chat as tmpl
// does (llama_chat_apply_template recognises Jinja templates by their markers).
func recogniseTemplate(tmpl string) (string, bool) {
	if _, ok := applyTemplate(tmpl, probeChat, true); !ok {
		return "", false
	}
	// Contents with spaces around them tell apart the variants that strip messages.
	padded := slices.Clone(probeChat)
	for i := range padded {
		padded[i].Content = " " + padded[i].Content + " "
	}
	out, _ := applyTemplate(tmpl, padded, true)
	names := builtinTemplates()
	if slices.Contains(names, tmpl) {
		return tmpl, true
	}
	for _, n := range names {
		if o, ok := applyTemplate(n, padded, true); ok && o == out {
			return n, true
		}
	}
	return "custom", true
}

// toOAI converts messages to OpenAI's chat format for the chat layer.
func toOAI(msgs []Message) []oaiMessage {
	out := make([]oaiMessage, 0, len(msgs))
	for _, m := range msgs {
		o := oaiMessage{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID, Name: m.ToolName}
		for _, tc := range m.ToolCalls {
			var c oaiToolCall
			c.ID, c.Type = tc.ID, "function"
			c.Function.Name, c.Function.Arguments = tc.Name, string(tc.Arguments)
			o.ToolCalls = append(o.ToolCalls, c)
		}
		out = append(out, o)
	}
	return out
}

// toOAITools converts tools to OpenAI's function tools for the chat layer.
func toOAITools(tools []Tool) []oaiTool {
	out := make([]oaiTool, 0, len(tools))
	for _, t := range tools {
		var o oaiTool
		o.Type = "function"
		o.Function.Name, o.Function.Description, o.Function.Parameters = t.Name, t.Description, t.Parameters
		if len(o.Function.Parameters) == 0 {
			o.Function.Parameters = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out = append(out, o)
	}
	return out
}

// renderErr formats msgs (with tools offered, if any); addAssistant appends the opening of
// the assistant's reply.
func (f chatFormat) renderErr(msgs []Message, addAssistant bool, tools ...Tool) (string, error) {
	switch {
	case f.layer != nil:
		r, err := f.layer.apply(toOAI(msgs), toOAITools(tools), addAssistant)
		return r.Prompt, err
	case f.tmpl != "":
		out, ok := applyTemplate(f.tmpl, msgs, addAssistant)
		if !ok {
			return "", fmt.Errorf("%w: llama.cpp does not know %q", errTemplate, f.tmpl)
		}
		return out, nil
	}
	return renderPlain(msgs), nil
}

// render formats msgs; addAssistant appends the opening of the assistant's reply. The format
// rendered the probe chat at load time; should a conversation fail to render later, it is
// rendered as plain text rather than failing the turn.
func (f chatFormat) render(msgs []Message, addAssistant bool) string {
	return f.renderTools(msgs, addAssistant, nil)
}

// renderTools is render with tools offered to the model.
func (f chatFormat) renderTools(msgs []Message, addAssistant bool, tools []Tool) string {
	out, err := f.renderErr(msgs, addAssistant, tools...)
	if err != nil {
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
	if f.layer == nil && f.tmpl == "" {
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
	if x, err := f.renderErr([]Message{{Role: RoleUser, Content: "U"}, {Role: RoleAssistant, Content: replyMark}}, false); err == nil {
		if i := strings.Index(x, replyMark); i >= 0 {
			add(x[i+len(replyMark):])
		}
	}
	if x, err := f.renderErr([]Message{{Role: RoleUser, Content: replyMark}}, false); err == nil {
		if i := strings.Index(x, replyMark); i >= 0 {
			add(x[:i])
		}
	}
	return out
}
