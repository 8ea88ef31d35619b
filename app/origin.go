package app

// Computed says which machine computed a reply.
type Computed string

const (
	ComputedDevice   Computed = "device"   // this device (its model, or its intents)
	ComputedServer   Computed = "server"   // the configured edge server (Origin.Server)
	ComputedFallback Computed = "fallback" // this device, because the edge server did not answer
)

// Origin is where a reply was computed: shown beside the reply and kept in the history, so a
// person can tell whether a conversation left the device.
type Origin struct {
	On Computed // "" only when no reply was computed (a failed turn)
	// Server is the edge server that answered (ComputedServer), or the one that did not
	// (ComputedFallback).
	Server string
	// Why is why the server did not answer (ComputedFallback).
	Why string
}
