package app

import (
	"context"
	"errors"
	"time"

	"hark/audio"
)

// readChunk is how many samples the microphone reader asks for at a time: 32 ms, one Silero
// VAD frame.
const readChunk = 512

// startMic starts the goroutine that reads the microphone in comp and feeds the loop.
func (a *Assistant) startMic(comp *component) {
	h := comp.cur
	src := h.val.(Source)
	ctx, cancel := context.WithCancel(a.ctx)
	h.stop = cancel
	a.micGen++
	gen := a.micGen
	a.spawn([]*held{h}, func() func() {
		for {
			buf := make([]float32, readChunk)
			n, err := src.Read(ctx, buf)
			if n > 0 {
				select {
				case a.audioIn <- chunk{gen, buf[:n]}:
				default:
					a.dropped.Add(int64(n)) // the loop is behind; never block the reader
				}
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return func() { a.micLost(comp, gen, err) }
			}
			if ctx.Err() != nil {
				return nil
			}
		}
	}, func(err error) func() { return func() { a.micLost(comp, gen, err) } })
}

// micLost handles a microphone that stopped delivering: it is closed, and reopened every few
// seconds until it works again (an utterance it was hearing is dropped: its end was never
// heard). A new default device (a *DeviceChanged) is no fault: the microphone is reopened at
// once, the utterance in progress goes on from it, and the change is announced (EventDevice)
// and said aloud where replies are (notice.go).
func (a *Assistant) micLost(comp *component, gen int, err error) {
	if gen != a.micGen || a.closing {
		return
	}
	var moved *DeviceChanged
	if errors.As(err, &moved) {
		// Not a fault: reopen at once (the new default), say so once, and go on listening.
		a.publish(Event{Kind: EventDevice, Component: ComponentMicrophone, Text: moved.Name})
		a.queueNotice(notice{msg: noticeMicrophone, arg: moved.Name}) // a driver cannot read the chat
		// The person may be in mid-sentence: what they say into the new microphone goes on
		// the same utterance (hands-free or push-to-talk) instead of being dropped.
		a.micMoving = true
		a.loadAgain(ComponentMicrophone, false)
		a.micMoving = false
		a.refresh()
		return
	}
	a.retire(comp)
	a.setPhase(comp, PhaseFailed, Explain(err, "The microphone stopped working",
		"Check that it is plugged in, or choose another one in Settings. Hark keeps trying to reopen it."))
	a.scheduleMicRetry()
	a.refresh()
}

// scheduleMicRetry reopens a failed microphone after a second, then every two seconds: a
// sound server that restarts or a microphone plugged back in is heard again within about
// two seconds, and a failed open costs next to nothing (measured by TestE2ESoundServerRestart).
func (a *Assistant) scheduleMicRetry() {
	a.micBackoff = min(max(2*a.micBackoff, time.Second), 2*time.Second)
	a.micRetryAt = a.now().Add(a.micBackoff)
}

// onAudio takes a block of microphone samples.
func (a *Assistant) onAudio(s []float32) {
	a.chunks++
	now := a.now()
	if now.Sub(a.levelAt) >= 50*time.Millisecond {
		a.levelAt = now
		a.publish(Event{Kind: EventLevel, Level: audio.MeasureLevel(s)})
	}
	a.keepPreroll(s)
	if a.recording {
		a.rec = append(a.rec, s...)
		if time.Duration(len(a.rec))*time.Second/audio.SampleRate >= a.cfg.MaxUtterance {
			a.stopTalking()
		}
		return
	}
	vad := a.comps[ComponentVAD].cur
	if !a.cfg.HandsFree || vad == nil || !a.ready.Voice {
		return
	}
	seg := vad.val.(Segmenter)
	bs, err := seg.Push(s)
	if err != nil {
		seg.Reset()
		a.hearing = false
		a.publish(Event{Kind: EventError, Err: Explain(err, "Voice detection failed", "")})
		a.refresh()
		return
	}
	for _, b := range bs {
		switch {
		case b.End:
			a.speechEnded(b.Utterance)
		case b.Paused:
			a.speculate(b.Utterance)
		case b.Resumed:
			a.dropSpeculation()
		default:
			a.speechStarted()
		}
	}
}

// keepPreroll remembers the last PreRoll of audio, for push-to-talk.
func (a *Assistant) keepPreroll(s []float32) {
	n := int(a.cfg.PreRoll * audio.SampleRate / time.Second)
	if n <= 0 {
		return
	}
	if len(a.preroll) != n {
		a.preroll, a.prerollAt = make([]float32, n), 0
	}
	if len(s) >= n {
		copy(a.preroll, s[len(s)-n:])
		a.prerollAt = 0
		return
	}
	k := copy(a.preroll[a.prerollAt:], s)
	copy(a.preroll, s[k:])
	a.prerollAt = (a.prerollAt + len(s)) % n
}

// prerollSamples returns a copy of the remembered audio, oldest first.
func (a *Assistant) prerollSamples() []float32 {
	out := make([]float32, 0, len(a.preroll)+16000)
	out = append(out, a.preroll[a.prerollAt:]...)
	return append(out, a.preroll[:a.prerollAt]...)
}

func (a *Assistant) speechStarted() {
	now := a.now()
	a.touch()
	a.hearing = true
	a.utterN++
	a.heardAt, a.partialAt = now, now
	a.hearWake = a.needsWake(now)
	if a.turn != nil && !a.cfg.BargeIn {
		a.hearIgnored = true // probably the assistant's own voice, and the person chose no barge-in
		return
	}
	a.hearIgnored = false
	a.cutNotice() // the person talks over it: said again after
	a.publish(Event{Kind: EventSpeech})
	if a.turn != nil {
		a.cancelTurn() // barge-in: the person talks over the reply
	}
	a.refresh()
}

func (a *Assistant) speechEnded(u audio.PCM) {
	if !a.hearing {
		return
	}
	a.hearing = false
	if a.hearIgnored {
		a.stopPartial()
		a.hearIgnored = false
		a.refresh()
		return
	}
	if a.commitSpeculation(u) {
		return
	}
	a.stopPartial()
	a.beginVoiceTurn(u, a.heardAt, a.hearWake)
}

// needsWake reports whether an utterance starting at t must begin with the wake phrase.
func (a *Assistant) needsWake(t time.Time) bool {
	if !a.cfg.HandsFree || a.cfg.WakePhrase == "" || a.turn != nil {
		return false
	}
	return !t.Before(a.followTo) && !t.Before(a.armedTo)
}

// maybePartial starts a live transcript of the utterance in progress when one is due.
func (a *Assistant) maybePartial() {
	if a.cfg.PartialEvery < 0 || a.partial != nil || a.closing || a.spec != nil {
		return
	}
	if !a.recording && (!a.hearing || a.hearIgnored || a.hearWake) {
		return // nothing to show (utterances before the wake phrase are not shown)
	}
	asr := a.comps[ComponentASR].cur
	if asr == nil || a.now().Sub(a.partialAt) < a.cfg.PartialEvery {
		return
	}
	var pcm audio.PCM
	if a.recording {
		pcm = audio.PCM{Rate: audio.SampleRate, Samples: append([]float32(nil), a.rec...)}
	} else if vad := a.comps[ComponentVAD].cur; vad != nil {
		cur := vad.val.(Segmenter).Current()
		pcm = audio.PCM{Rate: cur.Rate, Samples: append([]float32(nil), cur.Samples...)}
	}
	if pcm.Duration() < 500*time.Millisecond {
		return
	}
	a.partialAt = a.now()
	ctx, cancel := context.WithCancel(a.ctx)
	a.partial = cancel
	utter := a.utterN
	tr := asr.val.(Transcriber)
	a.spawn([]*held{asr}, func() func() {
		res, err := tr.Transcribe(ctx, pcm)
		return func() {
			if ctx.Err() == nil {
				a.partial = nil
			}
			cancel()
			if err != nil || utter != a.utterN || !(a.recording || a.hearing) {
				return
			}
			if res.Text != "" {
				a.publish(Event{Kind: EventPartial, Text: res.Text})
			}
			a.partialAt = a.now()
		}
	}, func(error) func() { return func() { a.partial = nil; cancel() } })
}

// dropUtterance drops the utterance being heard or recorded (push-to-talk), its live
// transcript and speculative start, and has the segmenter forget it.
func (a *Assistant) dropUtterance() {
	a.recording, a.rec, a.hearing, a.hearIgnored = false, nil, false, false
	a.stopPartial()
	if v := a.comps[ComponentVAD].cur; v != nil {
		v.val.(Segmenter).Reset()
	}
}

// stopPartial cancels the live transcript in flight, so the final one does not wait for it,
// and drops a speculative start on the utterance (the callers drop the utterance, or take
// the speculative start first: commitSpeculation).
func (a *Assistant) stopPartial() {
	a.dropSpeculation()
	if a.partial != nil {
		a.partial()
		a.partial = nil
	}
}
