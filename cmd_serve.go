package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"path/filepath"
	"strings"
	"time"

	"hark/app/config"
	"hark/asr"
	"hark/audio"
	"hark/internal/buildinfo"
	"hark/models"
	"hark/tts"
	"hark/wyoming"
)

const serveArgs = "[--uri tcp://HOST:PORT] [--asr-model FILE] [--zeroconf NAME] [--no-asr] [--no-tts] [--handle [--llm-model FILE]] [--max-clients N]"

// runServe is `hark serve`: Hark's speech recognition and speech output for other voice
// systems (Home Assistant's Wyoming integration) on a TCP port. It is the only command that
// listens on the network, and only where --uri says.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	cf := config.NewFlags(fs)
	cf.Bind("asr-model", "models.asr")
	cf.Bind("models-dir", "models.dir")
	cf.Bind("voice", "speech.voice")
	cf.Bind("lang", "assistant.language")
	cf.Bind("llm-model", "models.llm")
	noGuard := noGuardFlag(fs)
	uri := fs.String("uri", wyoming.DefaultURI, "where to listen: tcp://HOST:PORT (tcp://0.0.0.0:10300 for the whole LAN)")
	announce := fs.String("zeroconf", "", "announce the server on the LAN (mDNS, _wyoming._tcp) under this `NAME`, so Home Assistant discovers it (default: no announcement)")
	noASR := fs.Bool("no-asr", false, "serve no speech recognition (no speech model is loaded)")
	noTTS := fs.Bool("no-tts", false, "serve no speech output")
	handle := fs.Bool("handle", false, "answer questions too (Wyoming handle, a conversation agent): built-in commands first, then the language model (llm.* settings)")
	maxClients := fs.Int("max-clients", 16, "serve at most `N` clients at once")
	maxSeconds := fs.Int("max-seconds", 30, "transcribe at most `S` seconds of audio per request")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: serve: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *noASR && *noTTS && !*handle {
		return fmt.Errorf("%w: serve: with --no-asr and --no-tts (and no --handle) there is nothing to serve", errUsage)
	}
	s, err := openSetup(cf, stderr, "hark serve", false)
	if err != nil {
		return err
	}
	s.noGuard = *noGuard
	logger := log.New(stderr, "hark serve: ", log.LstdFlags)
	srv := &wyoming.Server{MaxClients: *maxClients, MaxUtterance: time.Duration(*maxSeconds) * time.Second, Log: logger.Printf}
	var served []string
	if !*noASR {
		path, err := s.modelPath(models.ASR, s.cfg.Models.ASR)
		if err != nil {
			return err
		}
		// One transcription at a time, on all the threads: ggml's threads spin while they wait,
		// so two requests computing at once on the same cores are far slower than in turn.
		m, err := asr.Load(path, asr.LoadOptions{Threads: s.threads(), MaxConcurrent: 1})
		if err != nil {
			return err
		}
		defer m.Close()
		opts := asr.DefaultOptions()
		opts.Language = s.cfg.Assistant.Language
		if s.noGuard {
			opts.Guard = &asr.Guard{Off: true}
		}
		srv.ASR = wyomingASR{m: m, opts: opts}
		srv.Info.ASR = []wyoming.ASRProgram{asrProgram(m.Info())}
		served = append(served, "speech recognition ("+filepath.Base(path)+")")
	}
	if !*noTTS {
		e, err := tts.NewEspeak()
		if err != nil {
			return err
		}
		defer e.Close()
		voices, err := e.Voices()
		if err != nil {
			return err
		}
		srv.TTS = wyomingTTS{e: e, voice: speechVoice(s.cfg)}
		srv.Info.TTS = []wyoming.TTSProgram{ttsProgram(voices)}
		served = append(served, "speech output (espeak-ng)")
	}
	if *handle {
		h, prog, stop, err := startAssistantHandler(ctx, s, logger)
		if err != nil {
			return err
		}
		defer stop()
		srv.Handler, srv.HandleTimeout = h, handleTimeout
		srv.Info.Handle = []wyoming.HandleProgram{prog}
		served = append(served, "questions (Hark's assistant, "+prog.Models[0].Name+")")
	}
	ln, err := wyoming.Listen(*uri)
	if err != nil {
		return err
	}
	if *announce != "" {
		stop, err := wyoming.Announce(*announce, ln.Addr())
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	// Tests and scripts read the address (the port, when --uri asked for port 0) from this line.
	fmt.Fprintf(stdout, "hark serve: Wyoming server on tcp://%s: %s\n", ln.Addr(), strings.Join(served, ", "))
	return srv.Serve(ctx, ln)
}

// wyomingASR adapts *asr.Model to wyoming.Transcriber.
type wyomingASR struct {
	m    *asr.Model
	opts asr.Options
}

func (w wyomingASR) Transcribe(ctx context.Context, pcm []float32, language string) (wyoming.Transcript, error) {
	o := w.opts
	if language != "" {
		o.Language, _, _ = strings.Cut(strings.ToLower(language), "-") // Home Assistant may send "en-US"
	}
	res, err := w.m.Transcribe(ctx, pcm, o)
	if err != nil {
		return wyoming.Transcript{}, err
	}
	return wyoming.Transcript{Text: strings.TrimSpace(res.Text), Language: res.Language}, nil
}

// wyomingTTS adapts espeak-ng to wyoming.Synthesizer; a request without a voice gets the
// configured one.
type wyomingTTS struct {
	e     *tts.Espeak
	voice tts.Voice
}

func (w wyomingTTS) Synthesize(ctx context.Context, text string, v wyoming.Voice) (audio.PCM, error) {
	tv := w.voice
	if v.Name != "" || v.Language != "" {
		tv.Name, tv.Language = v.Name, v.Language
	}
	return w.e.Synthesize(ctx, text, tv)
}

var (
	whisperAttribution = wyoming.Attribution{Name: "whisper.cpp", URL: "https://github.com/ggml-org/whisper.cpp"}
	espeakAttribution  = wyoming.Attribution{Name: "eSpeak NG", URL: "https://github.com/espeak-ng/espeak-ng"}
)

func asrProgram(info asr.Info) wyoming.ASRProgram {
	langs := info.Languages
	if len(langs) == 0 {
		langs = []string{"en"}
	}
	return wyoming.ASRProgram{
		Name: "hark-whisper", Attribution: whisperAttribution, Installed: true, Version: buildinfo.Version(),
		Description: "Hark: whisper.cpp speech recognition",
		Models: []wyoming.Model{{Name: filepath.Base(info.Path), Attribution: whisperAttribution, Installed: true,
			Description: fmt.Sprintf("whisper %s (%s)", info.Type, info.WeightType), Languages: langs}},
	}
}

func ttsProgram(voices []tts.VoiceInfo) wyoming.TTSProgram {
	p := wyoming.TTSProgram{Name: "hark-espeak-ng", Attribution: espeakAttribution, Installed: true, Version: buildinfo.Version(),
		Description: "Hark: eSpeak NG speech output", SupportsStreaming: true}
	for _, v := range voices {
		if !v.Variant {
			p.Voices = append(p.Voices, wyoming.Model{Name: v.ID, Attribution: espeakAttribution, Installed: true, Description: v.Name, Languages: v.Languages})
		}
	}
	return p
}
