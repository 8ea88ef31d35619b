// Package llm answers with a local GGUF language model on llama.cpp, in-process: it loads and
// checks model files, formats conversations with the model's own chat template, and streams
// replies token by token while keeping each conversation in the KV cache between turns.
//
// llama.cpp is built from its own sources (the git bundle in the npm package node-llama-cpp,
// pinned by package-lock.json) by scripts/native.sh: CMake Release, static libraries, the CPU
// backend with llama.cpp's defaults (OpenMP, weight repacking, llamafile sgemm). llamacpp.go is
// Hark's own thin cgo binding of llama.h, with C/C++ helpers in llama_glue.c and llama_glue.cpp;
// nothing outside llm sees a C type.
//
// # Usage
//
//	m, err := llm.Load(path, llm.Options{ContextSize: 4096})
//	defer m.Close()
//	chat, err := m.NewChat("You are a helpful voice assistant.")  // evaluates the system prompt
//	reply, err := chat.Send(ctx, "What time is it in Tokyo?", llm.DefaultGenOptions(),
//		func(piece string) error { fmt.Print(piece); return nil })
//
// CheckFile validates a file's GGUF header without loading it, with errors that say what is
// wrong (empty, truncated, not GGUF, a whisper.cpp model, a newer GGUF version, an
// architecture this llama.cpp does not run).
//
// # Chat formatting
//
// Conversations are formatted by llama.cpp's chat layer (common/chat, chatlayer.go and
// chat_glue.cpp) with the Jinja template from the GGUF file (tokenizer.chat_template), with
// llama.cpp's fixes for templates that lack a feature (Gemma's system prompt opens the first
// user turn). Info.TemplateFamily names the family llama_chat_apply_template recognises
// (chatml, llama3, gemma, phi3, mistral-v7, ...) or "custom". A built-in name other than chatml
// given as Options.ChatTemplate is rendered by llama_chat_apply_template. Models without a
// template (or "plain") are driven as plain completion: the messages are joined as running text.
// Template markup in users' text is not turned into special tokens, and replies never show
// markup: control tokens end a reply and the template's turn markers are stop sequences.
//
// # Tools and thinking
//
// GenOptions.Tools offers tools for a turn: the chat layer renders them in the family's own
// format and returns a grammar with lazy triggers that constrains a call once the model starts
// one. Replies of such turns, and of reasoning models, are parsed by the chat layer as they
// stream: only content reaches emit; calls come back in Reply.ToolCalls (answered with
// Chat.SendToolResults) and thinking in Reply.Reasoning. Text that does not parse stays text.
//
// # Prefix cache
//
// The model has one KV cache. Each Chat keeps its conversation as token segments (system
// prompt, one per turn) that mirror what the cache holds: Send appends only the new message's
// tokens (and the markup closing the previous reply) and evaluates what the cache lacks — the
// longest common prefix is reused, so a chat's second turn evaluates only its new tokens, and
// chats that share a system prompt share its evaluation. When the window is full the oldest
// turns are dropped (the system prompt is kept): where the cache can shift and the kept turns
// read the same without them (exactly, or but for whitespace, as plain text), their cache
// entries are removed and the later ones moved down (llama_memory_seq_rm + seq_add) without
// re-evaluation, so a turn evaluates only its own tokens; otherwise the remaining conversation
// is re-evaluated from the first token that changed.
//
// # Concurrency properties
//
// Model methods are safe for concurrent use. Requests (Send, Complete, NewChat) take turns on
// the model's single llama.cpp context: one holds it from its prompt evaluation to the end of
// its reply while the others wait (a waiting request gives up when its ctx is done). A Chat
// may be used from several goroutines; its calls take turns too. Cancelling a request's ctx
// stops it within one token: the context is checked between decodes, prompts are evaluated in
// batches of at most MaxBatchSize tokens, and an abort flag polled by ggml's CPU backend cuts a
// decode in progress short. Close stops the running request, waits for it and frees
// everything; call it once no new requests are made.
//
// llama.cpp's log is process-wide; it goes to the slog.Logger given to SetLogger at debug level
// (nowhere by default), and its recent errors are quoted in the errors Load and grammars return.
package llm
