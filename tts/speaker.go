package tts

import (
	"context"
	"strings"
	"sync"
	"time"

	"hark/audio"
)

// Player plays audio. Play returns when the last sample has been played, or promptly with
// ctx.Err() when ctx is done. audio/device.Player satisfies it.
type Player interface {
	Play(ctx context.Context, pcm audio.PCM) error
}

// SpeakStats describes one Speak call.
type SpeakStats struct {
	Chunks int // chunks synthesized (sentences, lines or clauses with something to say)
	Played int // chunks played to the end

	// FirstAudio is the time from the first piece arriving to the first chunk's audio being
	// handed to the player: generation of the first sentence plus its synthesis. The device's
	// output latency comes on top.
	FirstAudio time.Duration
	// Synthesis is the time spent synthesizing, and Audio the length of what was synthesized;
	// Synthesis/Audio is the real-time factor.
	Synthesis, Audio time.Duration
	// Waited is how long the player sat idle between chunks, and SynthWait the part of it
	// spent waiting for the synthesizer after the chunk's text was complete (the rest is
	// waiting for the text to arrive). Gap-free speech has SynthWait near zero.
	Waited, SynthWait time.Duration

	Spoken      string // the text of the chunks played to the end, as written by the LLM
	Interrupted bool   // ctx was cancelled before everything was spoken
}

// Speaker speaks a stream of text pieces (an LLM's reply as it is generated): it cuts the
// stream into sentences with a Chunker, cleans each with CleanFor, synthesizes it while the
// previous one plays, and plays them in order.
//
// Fields may be changed between Speak calls, not during one. One Speak runs at a time.
type Speaker struct {
	synth  Synthesizer
	player Player
	Voice  Voice
	// Chunking sets where the stream is cut (zero fields: DefaultChunkerConfig).
	Chunking ChunkerConfig
	// Ahead is how many synthesized chunks may wait for the player (default 2).
	Ahead int
}

// NewSpeaker returns a Speaker that synthesizes with s in voice v and plays on p.
func NewSpeaker(s Synthesizer, p Player, v Voice) *Speaker {
	return &Speaker{synth: s, player: p, Voice: v, Ahead: 2}
}

type textChunk struct {
	text  string
	ready time.Time // when the chunker completed it
}

type audioChunk struct {
	textChunk
	pcm       audio.PCM
	synthTook time.Duration
	synthDone time.Time
	err       error
}

// Speak speaks pieces until the channel is closed and everything is played, and returns what
// happened. When ctx is done it stops playback promptly and returns ctx.Err() with
// Interrupted set. Speak stops reading pieces when it returns: a sender must also watch ctx.
func (s *Speaker) Speak(ctx context.Context, pieces <-chan string) (SpeakStats, error) {
	var st SpeakStats
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ahead := s.Ahead
	if ahead <= 0 {
		ahead = 2
	}
	texts := make(chan textChunk, 64)
	audios := make(chan audioChunk, ahead)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs before wg.Wait: the goroutines see ctx done and return

	firstPiece := make(chan time.Time, 1)
	wg.Go(func() { s.chunk(ctx, pieces, texts, firstPiece) })
	wg.Go(func() { s.synthesize(ctx, texts, audios) })

	var start time.Time
	for {
		waitStart := time.Now()
		var a audioChunk
		var ok bool
		select {
		case a, ok = <-audios:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			st.Interrupted = true
			return st, ctx.Err()
		}
		if !ok {
			return st, nil
		}
		if a.err != nil {
			return st, a.err
		}
		now := time.Now()
		st.Chunks++
		st.Audio += a.pcm.Duration()
		st.Synthesis += a.synthTook
		if start.IsZero() {
			start = <-firstPiece
			st.FirstAudio = now.Sub(start)
		} else {
			st.Waited += now.Sub(waitStart)
			if from := later(waitStart, a.ready); a.synthDone.After(from) {
				st.SynthWait += a.synthDone.Sub(from)
			}
		}
		if err := s.player.Play(ctx, a.pcm); err != nil {
			if ctx.Err() != nil {
				st.Interrupted = true
				return st, ctx.Err()
			}
			return st, err
		}
		st.Played++
		if st.Spoken != "" {
			st.Spoken += " "
		}
		st.Spoken += a.text
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// chunk cuts the stream of pieces into chunks, closing texts at the end.
func (s *Speaker) chunk(ctx context.Context, pieces <-chan string, texts chan<- textChunk, firstPiece chan<- time.Time) {
	defer close(texts)
	c := NewChunker(s.Chunking)
	first := true
	send := func(chunks []string) bool {
		now := time.Now()
		for _, t := range chunks {
			select {
			case texts <- textChunk{text: t, ready: now}:
			case <-ctx.Done():
				return false
			}
		}
		return true
	}
	for {
		select {
		case p, ok := <-pieces:
			if !ok {
				if first {
					firstPiece <- time.Now()
				}
				send(c.Flush())
				return
			}
			if first {
				firstPiece <- time.Now()
				first = false
			}
			if !send(c.Push(p)) {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// synthesize turns chunks into audio in order, closing audios at the end or after an error.
func (s *Speaker) synthesize(ctx context.Context, texts <-chan textChunk, audios chan<- audioChunk) {
	defer close(audios)
	for t := range texts {
		text := CleanFor(t.text, s.Voice.Language)
		if strings.TrimSpace(text) == "" {
			continue
		}
		t0 := time.Now()
		pcm, err := s.synth.Synthesize(ctx, text, s.Voice)
		done := time.Now()
		if err != nil && ctx.Err() != nil {
			return
		}
		a := audioChunk{textChunk: t, pcm: pcm, synthTook: done.Sub(t0), synthDone: done, err: err}
		select {
		case audios <- a:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}
