// Package app is the assistant itself: it runs the turns of a conversation (listen, transcribe,
// think, speak), owns their state and cancellation, and publishes events to the front ends. It
// talks to the engines only through the small interfaces it declares, so it is tested without
// cgo.
//
// # Usage
//
// A front end builds an [Assistant] with [New], giving it loaders for the engines (package main
// adapts the concrete engines to [Transcriber], [Brain], [Segmenter], [Source] and [Speaker]) and
// a [Sink] for the [Event]s, then calls [Assistant.Run] on a goroutine of its own. The person's
// actions reach the assistant through its methods: [Assistant.StartTalking] and
// [Assistant.StopTalking] (push-to-talk), [Assistant.Ask] (a typed question), [Assistant.Stop]
// (cancel whatever is happening), [Assistant.NewConversation], [Assistant.Configure] and
// [Assistant.Replace] (new settings, other models), [Assistant.Confirm] and [Assistant.Tap]
// (the action cards' buttons). With an [Actor] (package action, adapted by main), a sentence
// that matches a local intent template runs its tool at once, without the language model; a
// tool that must be confirmed waits, in [StateConfirming], for a spoken or tapped yes; every
// call is an [EventAction] and an audit record ([ActionAuditor]). Otherwise a [ToolChat] may
// call the tools, at most [MaxToolRounds] rounds, each call checked before it runs.
// [Assistant.Alert] announces a timer that came due. The window (package ui), `hark listen`
// (JSON lines) and the tests all use this one API.
//
// # Concurrency properties
//
// One goroutine, the one inside [Assistant.Run], owns the assistant's state and moves every turn
// forward; it also cuts the microphone's stream into utterances. Engine calls run on worker
// goroutines that report back to it, so a slow engine never delays a button press: each turn
// gets its own context, and cancelling it (stop, a new utterance, a new question) stops
// transcription, generation and speech together. Every method of [Assistant] may be called from
// any goroutine, before or during Run, and returns at once.
//
// Events reach the [Sink] one at a time, in order, from several goroutines (reply tokens come
// straight from the generating goroutine, so they are never delayed by the loop). A Sink must
// not block: the window copies the event into its view-model and schedules a repaint.
package app
