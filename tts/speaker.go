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

// QueuePlayer is a Player that can take the next audio while the previous is still playing.
// The Speaker uses it when the player has it: each sentence then follows the one before
// without a gap, where consecutive Play calls leave one between them (the device's buffer
// drains before Play returns, and refills only after the next call).
type QueuePlayer interface {
	Player
	// Enqueue adds pcm to the end of the queue and returns at once. The channel receives one
	// value, nil when the last sample has played or an error, and is then closed. When ctx is
	// done, playback stops promptly and every audio queued with that ctx reports ctx.Err().
	Enqueue(ctx context.Context, pcm audio.PCM) <-chan error
}

// SpeakStats describes one Speak call.
type SpeakStats struct {
	Chunks int // chunks synthesized (sentences, lines or clauses with something to say)
	Played int // chunks played to the end

	// FirstAudio is the time from the first piece arriving to the first chunk's audio being
	// handed to the player: generation of the first sentence plus its synthesis. The device's
	// output latency comes on top.
	FirstAudio time.Duration
	// FirstText is the part of FirstAudio spent waiting for the first chunk's text (the
	// first sentence or clause to be generated), FirstSynth the first chunk's synthesis, and
	// FirstAudioAt when its audio was handed to the player (latency benchmarks).
	FirstText, FirstSynth time.Duration
	FirstAudioAt          time.Time
	// Synthesis is the time spent synthesizing, and Audio the length of what was synthesized;
	// Synthesis/Audio is the real-time factor.
	Synthesis, Audio time.Duration
	// Waited is how long the player sat idle between chunks (with a QueuePlayer: how long the
	// queue ran dry), and SynthWait the part of it spent waiting for the synthesizer after the
	// chunk's text was complete (the rest is waiting for the text to arrive). Gap-free speech
	// has SynthWait near zero.
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
	return &Speaker{synth: s, player: p, Voice: ResolveVoice(v), Ahead: 2}
}

// WithVoice returns a copy of s that speaks with voice v (a reply in another language).
func (s *Speaker) WithVoice(v Voice) *Speaker {
	c := *s
	c.Voice = ResolveVoice(v)
	return &c
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

	if qp, ok := s.player.(QueuePlayer); ok {
		return s.playQueued(ctx, qp, audios, firstPiece)
	}
	return s.playEach(ctx, audios, firstPiece)
}

// record adds a chunk about to be played to st. idleFrom is when the player ran out of audio
// (zero for the first chunk).
func (st *SpeakStats) record(a audioChunk, idleFrom time.Time, firstPiece <-chan time.Time) {
	now := time.Now()
	st.Chunks++
	st.Audio += a.pcm.Duration()
	st.Synthesis += a.synthTook
	if st.Chunks == 1 {
		first := <-firstPiece
		st.FirstAudio, st.FirstAudioAt = now.Sub(first), now
		st.FirstText, st.FirstSynth = a.ready.Sub(first), a.synthTook
		return
	}
	if idleFrom.IsZero() {
		return // the player still had audio: no gap
	}
	st.Waited += now.Sub(idleFrom)
	if from := later(idleFrom, a.ready); a.synthDone.After(from) {
		st.SynthWait += a.synthDone.Sub(from)
	}
}

func (st *SpeakStats) played(a audioChunk) {
	st.Played++
	if st.Spoken != "" {
		st.Spoken += " "
	}
	st.Spoken += a.text
}

// playEach plays with Play. A player without a queue leaves a gap between two Play calls (its
// buffer drains before Play returns), so every chunk already synthesized when a Play starts
// goes into that one call: after the first sentence, speech usually runs on without a gap.
func (s *Speaker) playEach(ctx context.Context, audios <-chan audioChunk, firstPiece <-chan time.Time) (SpeakStats, error) {
	var st SpeakStats
	var next *audioChunk // taken from audios but not yet played
	for {
		idle := time.Now()
		var a audioChunk
		ok := true
		if next != nil {
			a, next = *next, nil
		} else {
			select {
			case a, ok = <-audios:
			case <-ctx.Done():
			}
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
		if st.Chunks == 0 {
			idle = time.Time{}
		}
		st.record(a, idle, firstPiece)
		batch := []audioChunk{a}
		pcm := a.pcm
	merge:
		for {
			select {
			case b, ok := <-audios:
				if !ok {
					break merge
				}
				if b.err != nil || b.pcm.Rate != pcm.Rate {
					next = &b
					break merge
				}
				if len(batch) == 1 {
					pcm.Samples = append([]float32(nil), pcm.Samples...)
				}
				st.record(b, time.Time{}, firstPiece)
				batch = append(batch, b)
				pcm.Samples = append(pcm.Samples, b.pcm.Samples...)
			default:
				break merge
			}
		}
		if err := s.player.Play(ctx, pcm); err != nil {
			if ctx.Err() != nil {
				st.Interrupted = true
				return st, ctx.Err()
			}
			return st, err
		}
		for _, b := range batch {
			st.played(b)
		}
	}
}

// playQueued keeps up to two chunks queued at the player, so the next one starts the moment
// the previous ends.
func (s *Speaker) playQueued(ctx context.Context, qp QueuePlayer, audios <-chan audioChunk, firstPiece <-chan time.Time) (SpeakStats, error) {
	var st SpeakStats
	type queued struct {
		a    audioChunk
		done <-chan error
	}
	var pending []queued
	var idleFrom time.Time // when the queue ran dry
	for audios != nil || len(pending) > 0 {
		var next <-chan audioChunk
		if len(pending) < 2 {
			next = audios
		}
		var head <-chan error
		if len(pending) > 0 {
			head = pending[0].done
		}
		select {
		case a, ok := <-next:
			if !ok {
				audios = nil
				continue
			}
			if a.err != nil {
				return st, a.err
			}
			from := time.Time{}
			if len(pending) == 0 {
				from = idleFrom
			}
			st.record(a, from, firstPiece)
			pending = append(pending, queued{a, qp.Enqueue(ctx, a.pcm)})
		case err := <-head:
			if err != nil {
				if ctx.Err() != nil {
					st.Interrupted = true
					return st, ctx.Err()
				}
				return st, err
			}
			st.played(pending[0].a)
			pending = pending[1:]
			if len(pending) == 0 {
				idleFrom = time.Now()
			}
		case <-ctx.Done():
			// Count what finished playing before the cancel.
			for len(pending) > 0 {
				select {
				case err := <-pending[0].done:
					if err == nil {
						st.played(pending[0].a)
						pending = pending[1:]
						continue
					}
				default:
				}
				break
			}
			st.Interrupted = true
			return st, ctx.Err()
		}
	}
	return st, nil
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
