// Package action is what Hark can do: a registry of tools (name, description, JSON schema of
// the arguments, risk, handler), the built-in skills (clock, timers and alarms, calculator,
// unit conversions, notes, Hark's own controls) and their local store, and the sentence
// templates that reach them without a language model (package intent).
//
// It imports neither the language model nor the window: package app declares the small
// interface it needs (app.Actor) and package main wires an [*Actor] to it. Nothing a tool
// receives is ever run as a shell command or fetched as a URL.
//
// # Usage
//
//	st, _ := action.OpenStore(path)          // timers and notes survive restarts
//	act, _ := action.New(action.Options{Store: st, Ring: ring})
//	m := act.Match("en", "set a timer for 5 minutes") // local intents first
//	ctx = action.WithLanguage(ctx, m.Language)        // answer in the sentence's language
//	res, err := act.Run(ctx, m.Tool, m.Args)          // validated against the tool's schema
//
// The skills answer in the language of the turn, which the caller puts in the context of Run
// and Check (WithLanguage): English, or Chinese for "zh" and "yue" (res.Say is "好的，五分钟的计时器
// 开始了。"); a timer keeps its language for what its ring says (Ring.Say).
//
// # Concurrency properties
//
// An [*Actor], its [*Registry] and its [*Timers] may be used from any goroutine. Handlers run
// on the caller's goroutine under a context with the tool's timeout; a handler that ignores
// its context is abandoned when the timeout passes (Run returns [ErrTimeout]). Ring callbacks
// come from a timer goroutine and must not block.
package action
