// Package remotellm talks to a language model on another machine (an edge server running
// llama.cpp's llama-server, vLLM or ollama) through the OpenAI-compatible chat completions API,
// with replies streamed as server-sent events.
//
// A [Client] is one server; [Client.NewChat] starts a conversation that is kept here, on the
// device, and sent whole with every request (the server keeps nothing). [Chat.Send] streams the
// reply's pieces; when ctx is done the request's connection is closed at once. A server that
// does not answer, whose first piece takes longer than [Options.FirstToken], that stalls for as
// long mid-reply, or that sends something that is not a chat completion stream makes Send fail
// with an error that wraps [ErrUnavailable], so the caller can answer the turn another way.
//
// [CheckEndpoint] keeps conversations inside the building: only loopback and private LAN
// addresses are accepted unless the internet is explicitly allowed. [ReadKey] reads an API key
// from a file that others cannot read.
//
// The package imports neither llm nor ui; its [Tool], [ToolCall] and [ToolResult] have the
// shape of llm's, and package main adapts both to the assistant's interfaces.
package remotellm
