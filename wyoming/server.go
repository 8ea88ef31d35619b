package wyoming

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"hark/audio"
)

// Server answers Wyoming clients: describe, transcribe (with an audio stream), synthesize and
// streaming synthesis. The zero value of each limit picks its default.
type Server struct {
	ASR Transcriber // nil: no speech recognition service
	TTS Synthesizer // nil: no speech output service
	// Handler answers transcripts (the conversation service); nil: none.
	Handler Handler
	Info    Info // what describe answers

	Limits Limits
	// MaxUtterance caps one transcription's audio (default 30 s, whisper's window): a client
	// that streams longer gets a too-long error and its audio is dropped.
	MaxUtterance time.Duration
	// MaxText caps the text of one synthesis, in bytes (default 16 KiB).
	MaxText int
	// MaxQuestion caps a transcript sent to the handle service, in bytes (default 4 KiB); a
	// longer one is not handled.
	MaxQuestion int
	// HandleTimeout caps the answer to one transcript (default 2 minutes): a longer one is
	// stopped and the client told it was not handled.
	HandleTimeout time.Duration
	// MaxClients caps the connections served at once (default 16); one more is told busy.
	MaxClients int
	// IdleTimeout closes a connection that sends nothing for this long (default 10 minutes).
	IdleTimeout time.Duration
	// WriteTimeout drops a client that does not read what Hark sends (default 30 s).
	WriteTimeout time.Duration
	// Log, if set, reports each client's errors (one line each).
	Log func(format string, args ...any)
}

func (s *Server) limits() Limits {
	l, d := s.Limits, DefaultLimits()
	if l.Header <= 0 {
		l.Header = d.Header
	}
	if l.Data <= 0 {
		l.Data = d.Data
	}
	if l.Payload <= 0 {
		l.Payload = d.Payload
	}
	return l
}

func orDefault[T int | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log(format, args...)
	}
}

// Serve accepts clients on ln until ctx is done (then it closes ln and every connection and
// returns nil once their handlers have returned) or ln fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	go func() {
		<-ctx.Done()
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	slots := make(chan struct{}, orDefault(s.MaxClients, 16))
	var err error
	for {
		var c net.Conn
		c, err = ln.Accept()
		if err != nil {
			break
		}
		select {
		case slots <- struct{}{}:
		default:
			s.logf("%s: refused: %d clients already", c.RemoteAddr(), cap(slots))
			c.SetWriteDeadline(time.Now().Add(time.Second))
			WriteEvent(c, NewEvent(TypeError, Error{Text: fmt.Sprintf("Hark is serving %d clients already; try again later", cap(slots)), Code: CodeBusy}, nil))
			c.Close()
			continue
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(ctx, c)
			c.Close()
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			<-slots
		}()
	}
	cancel()
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// session is one client's connection and the state of its requests.
type session struct {
	s    *Server
	c    net.Conn
	lim  Limits
	ctx  context.Context
	name string
	r    *bufio.Reader

	// Speech recognition: the utterance so far, at 16 kHz mono.
	language  string
	receiving bool
	discard   bool // the utterance broke a rule (reported); drop it until audio-stop
	format    AudioFormat
	rs        *audio.Resampler
	scratch   []float32
	pcm       []float32
	maxPCM    int

	// Streaming synthesis.
	streaming bool
	voice     Voice
	pending   strings.Builder
	tooLong   bool
	started   bool // audio-start sent for this stream
}

func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ss := &session{s: s, c: c, lim: s.limits(), ctx: ctx, name: c.RemoteAddr().String(),
		maxPCM: int(orDefault(s.MaxUtterance, 30*time.Second) * audio.SampleRate / time.Second)}
	r := NewReader(c, ss.lim)
	ss.r = r
	idle := orDefault(s.IdleTimeout, 10*time.Minute)
	for {
		c.SetReadDeadline(time.Now().Add(idle))
		e, err := ReadEvent(r, ss.lim)
		if err != nil {
			var pe *ProtocolError
			switch {
			case errors.As(err, &pe):
				s.logf("%s: %v", ss.name, err)
				ss.send(NewEvent(TypeError, Error{Text: pe.Msg + "; closing the connection", Code: CodeProtocol}, nil))
			case errors.Is(err, io.ErrUnexpectedEOF):
				s.logf("%s: disconnected in the middle of an event", ss.name)
			case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed):
			default:
				s.logf("%s: %v", ss.name, err)
			}
			return
		}
		if err := ss.handle(e); err != nil {
			s.logf("%s: %v", ss.name, err)
			return // a write failed: the client is gone or not reading
		}
	}
}

// send writes one event; an error means the client is gone.
func (ss *session) send(e Event) error {
	ss.c.SetWriteDeadline(time.Now().Add(orDefault(ss.s.WriteTimeout, 30*time.Second)))
	return WriteEvent(ss.c, e)
}

// fail reports a client's mistake or an engine's failure to the client.
func (ss *session) fail(code, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	ss.s.logf("%s: %s", ss.name, msg)
	return ss.send(NewEvent(TypeError, Error{Text: msg, Code: code}, nil))
}

func (ss *session) handle(e Event) error {
	switch e.Type {
	case TypeDescribe:
		return ss.send(NewEvent(TypeInfo, ss.s.Info, nil))
	case TypePing:
		return ss.send(Event{Type: TypePong, Data: e.Data})
	case TypeTranscribe:
		var t Transcribe
		if err := e.Decode(&t); err != nil {
			return ss.fail(CodeBadRequest, "%v", err)
		}
		if ss.s.ASR == nil {
			return ss.fail(CodeUnsupported, "this Hark server has no speech recognition")
		}
		ss.language = t.Language
		ss.resetAudio()
		return nil
	case TypeAudioStart:
		var f AudioFormat
		if err := e.Decode(&f); err != nil {
			return ss.fail(CodeBadRequest, "%v", err)
		}
		ss.resetAudio()
		return ss.startAudio(f)
	case TypeAudioChunk:
		return ss.chunk(e)
	case TypeAudioStop:
		return ss.stopAudio()
	case TypeSynthesize:
		if ss.streaming {
			return nil // streaming clients send the whole text too, for older servers; the chunks count
		}
		var sy Synthesize
		if err := e.Decode(&sy); err != nil {
			return ss.fail(CodeBadRequest, "%v", err)
		}
		return ss.synthesize(sy)
	case TypeSynthesizeStart:
		var sy Synthesize
		if err := e.Decode(&sy); err != nil {
			return ss.fail(CodeBadRequest, "%v", err)
		}
		if ss.s.TTS == nil {
			return ss.fail(CodeUnsupported, "this Hark server has no speech output")
		}
		ss.streaming, ss.started, ss.tooLong, ss.voice = true, false, false, Voice{}
		ss.pending.Reset()
		if sy.Voice != nil {
			ss.voice = *sy.Voice
		}
		return nil
	case TypeSynthesizeChunk:
		var ch SynthesizeChunk
		if err := e.Decode(&ch); err != nil {
			return ss.fail(CodeBadRequest, "%v", err)
		}
		return ss.synthChunk(ch.Text)
	case TypeSynthesizeStop:
		return ss.synthStop()
	case TypeTranscript:
		var tr TranscriptIn
		if err := e.Decode(&tr); err != nil {
			return ss.fail(CodeBadRequest, "%v", err)
		}
		return ss.handleTranscript(tr)
	}
	return nil // events of other services (wake, intent, ...) are not for this server
}

func (ss *session) resetAudio() {
	ss.receiving, ss.discard, ss.pcm, ss.rs = false, false, ss.pcm[:0], nil
	if cap(ss.pcm) > 2*audio.SampleRate*10 {
		ss.pcm = nil // do not keep a long utterance's buffer for an idle client
	}
}

func (ss *session) startAudio(f AudioFormat) error {
	ss.receiving, ss.format = true, f
	if err := checkFormat(f); err != nil {
		ss.discard = true
		return ss.fail(CodeAudioFormat, "audio-start: %v", err)
	}
	if f.Rate != audio.SampleRate {
		rs, err := audio.NewResampler(f.Rate, audio.SampleRate)
		if err != nil {
			ss.discard = true
			return ss.fail(CodeAudioFormat, "audio-start: %v", err)
		}
		ss.rs = rs
	}
	return nil
}

func (ss *session) chunk(e Event) error {
	var f AudioFormat
	if err := e.Decode(&f); err != nil {
		ss.discard = true
		return ss.fail(CodeBadRequest, "%v", err)
	}
	if !ss.receiving { // audio-start is optional for some clients: the first chunk says the format
		if err := ss.startAudio(f); err != nil {
			return err
		}
	}
	if ss.discard {
		return nil
	}
	if f.Rate != ss.format.Rate || f.Width != ss.format.Width || f.Channels != ss.format.Channels {
		ss.discard = true
		return ss.fail(CodeAudioFormat, "audio-chunk is %d Hz, %d bytes, %d channels but audio-start said %d Hz, %d bytes, %d channels",
			f.Rate, f.Width, f.Channels, ss.format.Rate, ss.format.Width, ss.format.Channels)
	}
	var err error
	if ss.rs == nil {
		ss.pcm, err = appendMono(ss.pcm, e.Payload, f)
	} else {
		ss.scratch, err = appendMono(ss.scratch[:0], e.Payload, f)
		ss.pcm = ss.rs.Process(ss.pcm, ss.scratch)
	}
	if err != nil {
		ss.discard = true
		return ss.fail(CodeAudioFormat, "%v", err)
	}
	if len(ss.pcm) > ss.maxPCM {
		ss.discard = true
		ss.pcm = nil
		return ss.fail(CodeTooLong, "the utterance is longer than %v, the most Hark transcribes at once; its audio was dropped (send audio-stop sooner)",
			time.Duration(ss.maxPCM)*time.Second/audio.SampleRate)
	}
	return nil
}

func (ss *session) stopAudio() error {
	defer ss.resetAudio()
	if !ss.receiving {
		return ss.fail(CodeBadRequest, "audio-stop without audio")
	}
	if ss.discard {
		return nil // the error was sent when the audio went wrong
	}
	if ss.s.ASR == nil {
		return ss.fail(CodeUnsupported, "this Hark server has no speech recognition")
	}
	if ss.rs != nil {
		ss.pcm = ss.rs.Flush(ss.pcm)
	}
	ctx, stop := ss.watchHangUp()
	t, err := ss.s.ASR.Transcribe(ctx, ss.pcm, ss.language)
	stop()
	if err != nil {
		if ss.ctx.Err() != nil {
			return ss.ctx.Err()
		}
		return ss.fail(CodeFailed, "speech recognition failed: %v", err)
	}
	return ss.send(NewEvent(TypeTranscript, t, nil))
}

// watchHangUp returns a context that is cancelled if the client hangs up while the engine
// works, so a transcription nobody will read stops early. It peeks at the connection (taking
// nothing from it); stop ends the watch before the session reads again.
func (ss *session) watchHangUp() (context.Context, func()) {
	ctx, cancel := context.WithCancel(ss.ctx)
	done := make(chan struct{})
	ss.c.SetReadDeadline(time.Time{})
	go func() {
		defer close(done)
		if _, err := ss.r.Peek(1); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			cancel() // the client closed the connection or it broke
		}
	}()
	return ctx, func() {
		ss.c.SetReadDeadline(time.Now()) // wakes the peek
		<-done
		cancel()
	}
}

func (ss *session) synthesize(sy Synthesize) error {
	if ss.s.TTS == nil {
		return ss.fail(CodeUnsupported, "this Hark server has no speech output")
	}
	if max := orDefault(ss.s.MaxText, 16<<10); len(sy.Text) > max {
		return ss.fail(CodeTooLong, "text of %d bytes is longer than the %d Hark speaks at once", len(sy.Text), max)
	}
	if strings.TrimSpace(sy.Text) == "" {
		return ss.fail(CodeBadRequest, "synthesize has no text")
	}
	var v Voice
	if sy.Voice != nil {
		v = *sy.Voice
	}
	ss.started = false
	if err := ss.speak(sy.Text, v); err != nil {
		return err
	}
	return ss.endAudio()
}

// speak synthesizes text and sends its audio, with audio-start before the first sound.
func (ss *session) speak(text string, v Voice) error {
	pcm, err := ss.s.TTS.Synthesize(ss.ctx, text, v)
	if err != nil {
		if ss.ctx.Err() != nil {
			return ss.ctx.Err()
		}
		return ss.fail(CodeFailed, "speech synthesis failed: %v", err)
	}
	f := AudioFormat{Rate: pcm.Rate, Width: 2, Channels: 1}
	if !ss.started {
		ss.started = true
		if err := ss.send(NewEvent(TypeAudioStart, f, nil)); err != nil {
			return err
		}
	}
	const piece = 1024 // samples per chunk, as the Wyoming TTS servers send
	buf := make([]byte, 0, 2*piece)
	for i := 0; i < len(pcm.Samples); i += piece {
		buf = int16LE(buf[:0], pcm.Samples[i:min(i+piece, len(pcm.Samples))])
		if err := ss.send(NewEvent(TypeAudioChunk, f, buf)); err != nil {
			return err
		}
	}
	return nil
}

func (ss *session) endAudio() error {
	if !ss.started {
		return nil
	}
	ss.started = false
	return ss.send(NewEvent(TypeAudioStop, struct{}{}, nil))
}

func (ss *session) synthChunk(text string) error {
	if !ss.streaming {
		return ss.fail(CodeBadRequest, "synthesize-chunk without synthesize-start")
	}
	if ss.tooLong {
		return nil
	}
	ss.pending.WriteString(text)
	done, rest := cutSentences(ss.pending.String())
	if done != "" {
		ss.pending.Reset()
		ss.pending.WriteString(rest)
		if err := ss.speak(done, ss.voice); err != nil {
			return err
		}
	}
	if max := orDefault(ss.s.MaxText, 16<<10); ss.pending.Len() > max {
		ss.tooLong = true
		ss.pending.Reset()
		return ss.fail(CodeTooLong, "more than %d bytes of text without a sentence end; the rest of this synthesis is dropped", max)
	}
	return nil
}

func (ss *session) synthStop() error {
	if !ss.streaming {
		return ss.fail(CodeBadRequest, "synthesize-stop without synthesize-start")
	}
	ss.streaming = false
	if rest := ss.pending.String(); strings.TrimSpace(rest) != "" && !ss.tooLong {
		if err := ss.speak(rest, ss.voice); err != nil {
			return err
		}
	}
	ss.pending.Reset()
	if err := ss.endAudio(); err != nil {
		return err
	}
	return ss.send(NewEvent(TypeSynthesizeStoppd, struct{}{}, nil))
}

// cutSentences splits text after its last sentence end: done is whole sentences to speak now,
// rest waits for more text. A sentence ends at . ! ? ; followed by white space, at the
// full-width marks (。！？；, no space follows them in Chinese) or at a line break.
func cutSentences(text string) (done, rest string) {
	end := 0
	for i, r := range text {
		next := i + utf8.RuneLen(r)
		switch r {
		case '\n', '。', '！', '？', '；':
			end = next
		case '.', '!', '?', ';':
			if next < len(text) && (text[next] == ' ' || text[next] == '\n' || text[next] == '\t') {
				end = next
			}
		}
	}
	return text[:end], text[end:]
}

// handleTranscript answers a transcript with handled, or not-handled when the assistant
// could not help (the text says why).
func (ss *session) handleTranscript(tr TranscriptIn) error {
	if ss.s.Handler == nil {
		return ss.fail(CodeUnsupported, "this Hark server does not answer questions (start it with --handle)")
	}
	notHandled := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		ss.s.logf("%s: not handled: %s", ss.name, msg)
		return ss.send(NewEvent(TypeNotHandled, HandledData{Text: msg, Context: tr.Context}, nil))
	}
	if max := orDefault(ss.s.MaxQuestion, 4<<10); len(tr.Text) > max {
		return notHandled("the question is %d bytes long; Hark answers at most %d", len(tr.Text), max)
	}
	if strings.TrimSpace(tr.Text) == "" {
		return notHandled("the transcript is empty")
	}
	req := HandleRequest{Text: tr.Text, Language: tr.Language, Conversation: "connection " + ss.name}
	if len(tr.Context) > 0 {
		var c struct {
			ID string `json:"conversation_id"`
		}
		if json.Unmarshal(tr.Context, &c) == nil && c.ID != "" {
			req.Conversation = "conversation " + c.ID
		}
	}
	ctx, stop := ss.watchHangUp()
	ctx, cancel := context.WithTimeout(ctx, orDefault(ss.s.HandleTimeout, 2*time.Minute))
	res, err := ss.s.Handler.Handle(ctx, req)
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	cancel()
	stop()
	switch {
	case ss.ctx.Err() != nil:
		return ss.ctx.Err()
	case timedOut:
		return notHandled("no answer within %v", orDefault(ss.s.HandleTimeout, 2*time.Minute))
	case err != nil:
		return notHandled("%v", err)
	case !res.Handled:
		return notHandled("%s", res.Text)
	}
	return ss.send(NewEvent(TypeHandled, HandledData{Text: res.Text, Context: tr.Context}, nil))
}
