package llm

// The Go side of chat_glue.cpp: llama.cpp's chat layer (common/chat), which renders a
// conversation with the model's own Jinja template (or llama.cpp's fallbacks), returns the
// grammar and lazy triggers that constrain tool calls, and parses replies.

/*
#include <stdlib.h>
#include "chat_glue.h"
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"
)

// chatLayer is one model's chat templates in llama.cpp's chat layer.
type chatLayer struct{ c *C.hark_chat }

func init() { C.hark_chat_quiet() }

// newChatLayer loads the model's template, or override (a Jinja template or a name llama.cpp
// knows) when it is not "".
func newChatLayer(m cModel, override string) (*chatLayer, error) {
	co := C.CString(override)
	defer C.free(unsafe.Pointer(co))
	var cerr *C.char
	c := C.hark_chat_init(m, co, &cerr)
	if c == nil {
		return nil, fmt.Errorf("llama.cpp's chat layer rejected the template: %s", takeCString(cerr))
	}
	return &chatLayer{c: c}, nil
}

func (l *chatLayer) free() {
	if l != nil && l.c != nil {
		C.hark_chat_free(l.c)
		l.c = nil
	}
}

// takeCString copies and frees a malloc'd C string.
func takeCString(s *C.char) string {
	if s == nil {
		return "unknown error"
	}
	defer C.free(unsafe.Pointer(s))
	return C.GoString(s)
}

// oaiMessage is a message in OpenAI's chat format, which the chat layer reads.
type oaiMessage struct {
	Role       string        `json:"role"`
	Content    string        `json:"content"`
	ToolCalls  []oaiToolCall `json:"tool_calls,omitempty"`
	ToolCallID string        `json:"tool_call_id,omitempty"`
	Name       string        `json:"name,omitempty"`
}

type oaiToolCall struct {
	ID       string `json:"id,omitempty"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaiTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
	} `json:"function"`
}

// chatRender is what the chat layer returns for a conversation.
type chatRender struct {
	Prompt           string   `json:"prompt"`
	Grammar          string   `json:"grammar"`
	GrammarLazy      bool     `json:"grammar_lazy"`
	Format           int      `json:"format"`
	FormatName       string   `json:"format_name"`
	GenerationPrompt string   `json:"generation_prompt"`
	Parser           string   `json:"parser"`
	SupportsThinking bool     `json:"supports_thinking"`
	ThinkingStart    string   `json:"thinking_start"`
	ThinkingEnd      []string `json:"thinking_end"`
	Triggers         []struct {
		Type  int    `json:"type"` // common_grammar_trigger_type: 0 token, 1 word, 2 pattern, 3 full pattern
		Value string `json:"value"`
		Token int32  `json:"token"`
	} `json:"triggers"`
	PreservedTokens []string `json:"preserved_tokens"`
	AdditionalStops []string `json:"additional_stops"`

	raw string // the JSON itself, for hark_chat_grammar
}

// apply renders msgs (and tools, offered this turn) with the model's template.
func (l *chatLayer) apply(msgs []oaiMessage, tools []oaiTool, addGenerationPrompt bool) (chatRender, error) {
	return l.applyChoice(msgs, tools, addGenerationPrompt, false)
}

// applyChoice is apply; requireTool makes a tool call the only reply (tool_choice "required").
func (l *chatLayer) applyChoice(msgs []oaiMessage, tools []oaiTool, addGenerationPrompt, requireTool bool) (chatRender, error) {
	if msgs == nil {
		msgs = []oaiMessage{}
	}
	mj, err := json.Marshal(msgs)
	if err != nil {
		return chatRender{}, err
	}
	tj := []byte{}
	if len(tools) > 0 {
		if tj, err = json.Marshal(tools); err != nil {
			return chatRender{}, err
		}
	}
	cm := C.CString(string(mj))
	defer C.free(unsafe.Pointer(cm))
	ct := C.CString(string(tj))
	defer C.free(unsafe.Pointer(ct))
	var cerr *C.char
	out := C.hark_chat_apply(l.c, cm, ct, C.bool(addGenerationPrompt), C.bool(true), C.bool(requireTool), &cerr)
	if out == nil {
		return chatRender{}, fmt.Errorf("%w: %s", errTemplate, takeCString(cerr))
	}
	raw := takeCString(out)
	var r chatRender
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return chatRender{}, fmt.Errorf("llm: the chat layer's answer: %w", err)
	}
	r.raw = raw
	return r, nil
}

var errTemplate = errors.New("llm: the chat template failed to render")

// parsedReply is a reply split by the chat layer's parser.
type parsedReply struct {
	Content   string `json:"content"`
	Reasoning string `json:"reasoning"`
	ToolCalls []struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"tool_calls"`
}

// parse splits text (the reply so far when partial) into content, reasoning and tool calls
// with the parser r came with.
func (r *chatRender) parse(text string, partial bool) (parsedReply, error) {
	cg := C.CString(r.GenerationPrompt)
	defer C.free(unsafe.Pointer(cg))
	cp := C.CString(r.Parser)
	defer C.free(unsafe.Pointer(cp))
	ct := C.CString(text)
	defer C.free(unsafe.Pointer(ct))
	var cerr *C.char
	out := C.hark_chat_parse(C.int(r.Format), cg, cp, ct, C.bool(partial), &cerr)
	if out == nil {
		return parsedReply{}, errors.New(takeCString(cerr))
	}
	var p parsedReply
	if err := json.Unmarshal([]byte(takeCString(out)), &p); err != nil {
		return parsedReply{}, err
	}
	return p, nil
}

// grammarSampler makes the sampler for the grammar r came with (tool calls).
func (r *chatRender) grammarSampler(v vocab) (*C.struct_llama_sampler, error) {
	ca := C.CString(r.raw)
	defer C.free(unsafe.Pointer(ca))
	var cerr *C.char
	s := C.hark_chat_grammar(v.c, ca, &cerr)
	if s == nil {
		return nil, fmt.Errorf("%w: %s", ErrBadGrammar, takeCString(cerr))
	}
	return s, nil
}
