package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/gen2brain/malgo"

	"hark/app/config"
	"hark/audio"
	"hark/tts"
)

// speechVoice is the voice the configuration asks for (speech.voice, speech.rate,
// speech.pitch; the language of assistant.language unless that is "auto").
func speechVoice(cfg *config.Config) tts.Voice {
	v := tts.Voice{Name: cfg.Speech.Voice, Rate: cfg.Speech.Rate, Pitch: cfg.Speech.Pitch}
	if l := cfg.Assistant.Language; l != "auto" {
		v.Language = l
	}
	if v.Pitch == 0 {
		v.Pitch = 1 // the configuration's 0 is the lowest pitch; tts.Voice's 0 means the default
	}
	return v
}

func runSay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("say", `[--voice V] [--lang L] [--rate WPM] [--pitch P] [--out FILE.wav] [-v] "text" (or text on stdin)`, stderr)
	cf := config.NewFlags(fs)
	cf.Bind("voice", "speech.voice")
	cf.Bind("rate", "speech.rate")
	cf.Bind("pitch", "speech.pitch")
	lang := fs.String("lang", "", "language of the text, when no voice is named; also picks the clean-up rules (default: assistant.language, or en)")
	out := fs.String("out", "", "write a WAV file instead of playing")
	earcon := fs.String("earcon", "", "play an earcon instead of text: listening, got-it or error")
	verbose := fs.Bool("v", false, "print timings (time to first audio, real-time factor) to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(cf, stderr)
	if err != nil {
		return err
	}
	if *earcon != "" {
		return playEarcon(ctx, *earcon, *out, stdout)
	}
	text := strings.Join(fs.Args(), " ")
	if text == "" || text == "-" {
		b, err := io.ReadAll(bufio.NewReader(os.Stdin))
		if err != nil {
			return fmt.Errorf("reading the text from stdin: %w", err)
		}
		text = string(b)
	}
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("%w: say needs some text: hark say \"Hello there\"", errUsage)
	}
	synth, err := tts.NewEspeak()
	if err != nil {
		return err
	}
	defer synth.Close()
	v := speechVoice(cfg)
	if *lang != "" {
		v.Language = *lang
	}
	// Fail on a bad voice before opening the sound device.
	if _, err := synth.Synthesize(ctx, "", v); err != nil {
		return err
	}

	var player tts.Player
	var rec *recorder
	if *out != "" {
		rec = &recorder{}
		player = rec
	} else {
		p, err := openSayPlayer(synth.SampleRate())
		if err != nil {
			return err
		}
		defer p.Close()
		player = p
	}
	// The text goes through the same path as a reply: sentence by sentence, each played while
	// the next is synthesized.
	pieces := make(chan string, 1)
	pieces <- text
	close(pieces)
	st, err := tts.NewSpeaker(synth, player, v).Speak(ctx, pieces)
	if err != nil {
		return err
	}
	if *verbose {
		rtf := 0.0
		if st.Audio > 0 {
			rtf = st.Synthesis.Seconds() / st.Audio.Seconds()
		}
		fmt.Fprintf(stderr, "%d sentences, %v of audio; first audio after %v; synthesis %v (real-time factor %.4f); player waited %v\n",
			st.Chunks, st.Audio.Round(time.Millisecond), st.FirstAudio.Round(time.Microsecond), st.Synthesis.Round(time.Microsecond), rtf, st.Waited)
	}
	if rec != nil {
		if rec.pcm.Rate == 0 {
			rec.pcm.Rate = synth.SampleRate()
		}
		if err := writeWAV16(*out, rec.pcm); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%v, %d Hz)\n", *out, rec.pcm.Duration().Round(time.Millisecond), rec.pcm.Rate)
	}
	return nil
}

// playEarcon plays (or writes) one of the earcons.
func playEarcon(ctx context.Context, name, out string, stdout io.Writer) error {
	var e tts.Earcon
	switch name {
	case "listening":
		e = tts.EarconListening
	case "got-it":
		e = tts.EarconGotIt
	case "error":
		e = tts.EarconError
	default:
		return fmt.Errorf("%w: no earcon %q: listening, got-it or error", errUsage, name)
	}
	pcm := e.PCM()
	if out != "" {
		if err := writeWAV16(out, pcm); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%v, %d Hz)\n", out, pcm.Duration().Round(time.Millisecond), pcm.Rate)
		return nil
	}
	p, err := openSayPlayer(pcm.Rate)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Play(ctx, pcm)
}

// recorder is a tts.Player that collects what it is asked to play.
type recorder struct{ pcm audio.PCM }

func (r *recorder) Play(ctx context.Context, p audio.PCM) error {
	if r.pcm.Rate != 0 && p.Rate != r.pcm.Rate {
		return fmt.Errorf("recorder: audio at %d Hz after %d Hz", p.Rate, r.pcm.Rate)
	}
	r.pcm.Rate = p.Rate
	r.pcm.Samples = append(r.pcm.Samples, p.Samples...)
	return ctx.Err()
}

// writeWAV16 writes p as a 16-bit PCM mono WAV file.
// TEMPORARY: replaced by audio.WriteWAV when the audio package lands on main.
func writeWAV16(path string, p audio.PCM) error {
	data := make([]byte, 44+2*len(p.Samples))
	le := binary.LittleEndian
	copy(data[0:], "RIFF")
	le.PutUint32(data[4:], uint32(36+2*len(p.Samples)))
	copy(data[8:], "WAVEfmt ")
	le.PutUint32(data[16:], 16)
	le.PutUint16(data[20:], 1) // PCM
	le.PutUint16(data[22:], 1) // mono
	le.PutUint32(data[24:], uint32(p.Rate))
	le.PutUint32(data[28:], uint32(2*p.Rate))
	le.PutUint16(data[32:], 2)
	le.PutUint16(data[34:], 16)
	copy(data[36:], "data")
	le.PutUint32(data[40:], uint32(2*len(p.Samples)))
	for i, s := range p.Samples {
		v := math.Round(float64(s) * 32767)
		le.PutUint16(data[44+2*i:], uint16(int16(min(max(v, -32768), 32767))))
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// sayPlayer plays mono audio on the default output device.
// TEMPORARY: a minimal malgo player for `hark say` until audio/device's Player lands on main.
// It queues (tts.QueuePlayer), so sentences follow each other without a gap. An item counts as
// played when the device has taken its last sample; Close waits for the device's buffer.
type sayPlayer struct {
	audioCtx *malgo.AllocatedContext
	dev      *malgo.Device
	rate     int
	latency  time.Duration

	mu    sync.Mutex // the audio callback holds it only to copy
	queue []*sayItem
	wake  chan struct{} // the callback finished an item
	quit  chan struct{}
}

type sayItem struct {
	ctx      context.Context
	samples  []float32
	pos      int
	finished bool
	done     chan error
	stop     func() bool // unregisters the ctx callback
}

func openSayPlayer(rate int) (*sayPlayer, error) {
	audioCtx, err := malgo.InitContext(nil, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("no sound system available: %w", err)
	}
	p := &sayPlayer{audioCtx: audioCtx, rate: rate, wake: make(chan struct{}, 1), quit: make(chan struct{})}
	cfg := malgo.DefaultDeviceConfig(malgo.Playback)
	cfg.Playback.Format = malgo.FormatF32
	cfg.Playback.Channels = 1
	cfg.SampleRate = uint32(rate)
	// 200 ms of buffer: a busy machine (other builds, the LLM) must not starve the device.
	cfg.PeriodSizeInMilliseconds = 50
	cfg.Periods = 4
	p.latency = 4 * 50 * time.Millisecond
	dev, err := malgo.InitDevice(audioCtx.Context, cfg, malgo.DeviceCallbacks{Data: p.onData})
	if err != nil {
		_ = audioCtx.Uninit()
		audioCtx.Free()
		return nil, fmt.Errorf("opening the speaker: %w", err)
	}
	p.dev = dev
	go p.report()
	if err := dev.Start(); err != nil {
		p.Close()
		return nil, fmt.Errorf("starting the speaker: %w", err)
	}
	return p, nil
}

// onData runs on the audio thread: it copies from the queue, item after item, and never blocks.
func (p *sayPlayer) onData(out, _ []byte, frames uint32) {
	dst := unsafeF32(out, int(frames))
	n := 0
	finished := false
	p.mu.Lock()
	for _, it := range p.queue {
		if n == len(dst) {
			break
		}
		if it.finished {
			continue
		}
		k := copy(dst[n:], it.samples[it.pos:])
		it.pos += k
		n += k
		if it.pos == len(it.samples) {
			it.finished, finished = true, true
		}
	}
	p.mu.Unlock()
	clear(dst[n:])
	if finished {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// report tells Enqueue's callers when their audio has been played.
func (p *sayPlayer) report() {
	for {
		select {
		case <-p.wake:
		case <-p.quit:
			return
		}
		p.mu.Lock()
		for len(p.queue) > 0 && p.queue[0].finished {
			it := p.queue[0]
			p.queue = p.queue[1:]
			it.stop()
			it.done <- nil
			close(it.done)
		}
		p.mu.Unlock()
	}
}

func (p *sayPlayer) Enqueue(ctx context.Context, pcm audio.PCM) <-chan error {
	it := &sayItem{ctx: ctx, samples: pcm.Samples, done: make(chan error, 1)}
	if pcm.Rate != p.rate || len(pcm.Samples) == 0 || ctx.Err() != nil {
		var err error
		if pcm.Rate != p.rate {
			err = fmt.Errorf("say: audio at %d Hz for a %d Hz player", pcm.Rate, p.rate)
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		it.done <- err
		close(it.done)
		return it.done
	}
	it.stop = context.AfterFunc(ctx, func() { p.cancel(ctx) })
	p.mu.Lock()
	p.queue = append(p.queue, it)
	p.mu.Unlock()
	return it.done
}

// cancel drops what ctx queued: playback stops at the next period.
func (p *sayPlayer) cancel(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.queue[:0]
	for _, it := range p.queue {
		if it.ctx == ctx {
			it.done <- ctx.Err()
			close(it.done)
			continue
		}
		kept = append(kept, it)
	}
	p.queue = kept
}

func (p *sayPlayer) Play(ctx context.Context, pcm audio.PCM) error { return <-p.Enqueue(ctx, pcm) }

func (p *sayPlayer) Close() error {
	if p.dev == nil {
		return nil
	}
	time.Sleep(p.latency) // let the device's buffer play out
	p.dev.Uninit()
	p.dev = nil
	close(p.quit)
	_ = p.audioCtx.Uninit()
	p.audioCtx.Free()
	return nil
}

// unsafeF32 views the device's byte buffer as float32 samples (FormatF32, mono): no copy, no
// allocation on the audio thread.
func unsafeF32(b []byte, frames int) []float32 {
	if frames <= 0 || len(b) < 4*frames {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), frames)
}
