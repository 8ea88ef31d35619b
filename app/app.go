// Package app is the assistant itself: it runs the turns of a conversation (listen, transcribe,
// think, speak), owns their state and cancellation, and publishes events to the front ends. It
// talks to the engines only through the small interfaces it declares, so it is tested without
// cgo.
package app
