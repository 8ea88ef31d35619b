package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"hark/app/config"
	"hark/audio"
	"hark/audio/device"
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
	fs := newFlags("say", stderr)
	cf := config.NewFlags(fs)
	cf.Bind("voice", "speech.voice")
	cf.Bind("rate", "speech.rate")
	cf.Bind("pitch", "speech.pitch")
	cf.Bind("output-device", "audio.output_device")
	lang := fs.String("lang", "", "language of the text, when no voice is named; also picks the clean-up rules (default: assistant.language, or en)")
	out := fs.String("out", "", "write a WAV file instead of playing")
	earcon := fs.String("earcon", "", "play an earcon instead of text: listening, got-it or error")
	phonemes := fs.Bool("phonemes", false, "print the phonemes the voice would say (espeak-ng's mnemonics, as `espeak-ng -x` prints them) instead of speaking")
	verbose := fs.Bool("v", false, "print timings (time to first audio, real-time factor) to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(cf, stderr, "hark", false)
	if err != nil {
		return err
	}
	if *earcon != "" {
		return playEarcon(ctx, *earcon, *out, cfg.Audio.OutputDevice, stdout)
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
	if *phonemes {
		p, err := synth.Phonemes(text, v)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, p)
		return nil
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
		p, err := device.OpenPlayer(device.PlayerOptions{Device: cfg.Audio.OutputDevice})
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
		fmt.Fprintf(stderr, "%d sentences, %v of audio; first audio after %v; synthesis %v (real-time factor %.4f); player idle between sentences %v (waiting for synthesis %v)\n",
			st.Chunks, st.Audio.Round(time.Millisecond), st.FirstAudio.Round(time.Microsecond), st.Synthesis.Round(time.Microsecond), rtf,
			st.Waited.Round(time.Microsecond), st.SynthWait)
	}
	if rec != nil {
		if rec.pcm.Rate == 0 {
			rec.pcm.Rate = synth.SampleRate()
		}
		if err := audio.WriteWAV(*out, rec.pcm); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%v, %d Hz)\n", *out, rec.pcm.Duration().Round(time.Millisecond), rec.pcm.Rate)
	}
	return nil
}

// playEarcon plays (or writes) one of the earcons.
func playEarcon(ctx context.Context, name, out, outDevice string, stdout io.Writer) error {
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
		if err := audio.WriteWAV(out, pcm); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%v, %d Hz)\n", out, pcm.Duration().Round(time.Millisecond), pcm.Rate)
		return nil
	}
	p, err := device.OpenPlayer(device.PlayerOptions{Device: outDevice})
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
