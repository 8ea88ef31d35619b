// Package dictation turns speech of any length — a file, or a microphone that runs for an
// hour — into a timed transcript. It is the long-form pipeline beside the assistant's
// one-utterance turns: the same Transcriber, different cutting.
//
// # How audio is cut
//
// Samples go through an [audio.Endpointer] (Silero or the energy detector): windows end at
// pauses, never at fixed times, and silence between them is skipped. Only speech without a
// pause for longer than whisper's 30-second window is cut elsewhere, at its quietest moment
// (the endpointer's split). Windows never overlap, so no audio is heard twice; each window is
// transcribed with the text of the window before as whisper's initial prompt, so a sentence
// that runs across a border reads on rather than starting over. Memory is bounded: the
// endpointer keeps at most one window of audio, and only text is kept after that.
//
// # Usage
//
//	d := dictation.New(t, detector, dictation.Options{})
//	for chunk := range audio { segs, err := d.Push(ctx, chunk); show(segs) }
//	segs, err := d.Flush(ctx)
//
// Segment times are absolute, from the first sample pushed. The writers ([WriteTXT],
// [WriteSRT], [WriteVTT]) format a transcript as whisper.cpp's CLI does; [WriteJSON] writes
// Hark's own layout ([JSONTranscript]). [Join] joins text with spaces between words and none
// between Chinese or Japanese characters.
//
// # Keeping dictations
//
// A [Store] is the folder where dictations are kept when the person asks: one private folder
// per dictation, named by its time, which retention ([Store.Prune]) and [Store.Wipe] delete
// whole.
//
// # Concurrency
//
// A Dictation belongs to one goroutine at a time; the writers are plain functions.
package dictation
