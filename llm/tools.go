package llm

import "encoding/json"

// Tool is a function the model may call, offered for one turn in GenOptions.Tools. The chat
// layer renders the tools in the model family's own format and constrains a call to the
// schema (a grammar that starts when the model begins a call).
type Tool struct {
	Name, Description string
	Parameters        json.RawMessage // JSON Schema of the arguments
}

// ToolCall is a call the model made: Arguments is a JSON object.
type ToolCall struct {
	ID, Name  string
	Arguments json.RawMessage
}

// ToolResult answers a ToolCall (Chat.SendToolResults).
type ToolResult struct {
	CallID, Name, Content string
}
