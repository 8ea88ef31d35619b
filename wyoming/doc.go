// Package wyoming serves Hark's speech recognition and speech output to other voice systems
// (Home Assistant, Rhasspy, wyoming-satellite) over the Wyoming protocol: JSON header lines,
// optional JSON data and an optional PCM payload on a TCP connection.
//
// It declares what it consumes (Transcriber, Synthesizer) and imports no engine; main wires
// whisper.cpp and espeak-ng in. Every client gets bounded buffers: an event's declared sizes,
// the length of one utterance and the text of one synthesis are capped, and a client that
// breaks them gets an `error` event while the other clients carry on.
package wyoming
