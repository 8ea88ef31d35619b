package wyoming_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"hark/audio"
	"hark/wyoming"
)

// fakeASR reports what it was given: the length and mean level of the 16 kHz audio (the
// mean, not the peak: a resampled step rings at its edges).
type fakeASR struct{}

func (fakeASR) Transcribe(ctx context.Context, pcm []float32, lang string) (wyoming.Transcript, error) {
	var sum float64
	for _, s := range pcm {
		sum += math.Abs(float64(s))
	}
	return wyoming.Transcript{Text: fmt.Sprintf("%d samples level %.3f", len(pcm), sum/float64(max(1, len(pcm)))), Language: lang}, nil
}

// fakeTTS speaks every text as 10 samples a byte at 22050 Hz and records the texts.
type fakeTTS struct {
	mu    sync.Mutex
	texts []string
}

func (f *fakeTTS) Synthesize(ctx context.Context, text string, v wyoming.Voice) (audio.PCM, error) {
	f.mu.Lock()
	f.texts = append(f.texts, text)
	f.mu.Unlock()
	return audio.PCM{Rate: 22050, Samples: make([]float32, 10*len(text))}, nil
}

// start serves s on a loopback port until the test ends.
func start(t *testing.T, s *wyoming.Server) string {
	t.Helper()
	ln, err := wyoming.Listen("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

type client struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t, c, wyoming.NewReader(c, wyoming.DefaultLimits())}
}

func (c *client) send(typ string, data any, payload []byte) {
	c.t.Helper()
	if err := wyoming.WriteEvent(c.c, wyoming.NewEvent(typ, data, payload)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) raw(s string) {
	c.t.Helper()
	if _, err := c.c.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) read() wyoming.Event {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	e, err := wyoming.ReadEvent(c.r, wyoming.DefaultLimits())
	if err != nil {
		c.t.Fatalf("reading an event: %v", err)
	}
	return e
}

// expectError reads an error event with the code.
func (c *client) expectError(code string) string {
	c.t.Helper()
	e := c.read()
	var er wyoming.Error
	if e.Type != wyoming.TypeError || e.Decode(&er) != nil || er.Code != code {
		c.t.Fatalf("got %s %s, want an error with code %q", e.Type, e.Data, code)
	}
	return er.Text
}

func (c *client) transcript() wyoming.Transcript {
	c.t.Helper()
	e := c.read()
	var tr wyoming.Transcript
	if e.Type != wyoming.TypeTranscript || e.Decode(&tr) != nil {
		c.t.Fatalf("got %s %s, want a transcript", e.Type, e.Data)
	}
	return tr
}

// pcm16 encodes n frames of a constant level in f's width and channels.
func pcmBytes(f wyoming.AudioFormat, n int, level float64) []byte {
	var b []byte
	for range n * f.Channels {
		switch f.Width {
		case 1:
			b = append(b, byte(128+level*127))
		case 2:
			b = binary.LittleEndian.AppendUint16(b, uint16(int16(level*32767)))
		case 4:
			b = binary.LittleEndian.AppendUint32(b, uint32(int32(level*2147483647)))
		}
	}
	return b
}

// utterance sends transcribe, audio-start, chunks of 100 ms adding up to seconds, audio-stop.
func (c *client) utterance(f wyoming.AudioFormat, seconds float64, level float64) {
	c.t.Helper()
	c.send(wyoming.TypeTranscribe, wyoming.Transcribe{Language: "en"}, nil)
	c.send(wyoming.TypeAudioStart, f, nil)
	chunk := pcmBytes(f, f.Rate/10, level)
	for i := 0; i < int(seconds*10); i++ {
		c.send(wyoming.TypeAudioChunk, f, chunk)
	}
	c.send(wyoming.TypeAudioStop, nil, nil)
}

func TestDescribe(t *testing.T) {
	info := wyoming.Info{ASR: []wyoming.ASRProgram{{Name: "hark-whisper", Installed: true, Models: []wyoming.Model{{Name: "tiny", Languages: []string{"en"}, Installed: true}}}}}
	c := dial(t, start(t, &wyoming.Server{ASR: fakeASR{}, Info: info}))
	c.send(wyoming.TypeDescribe, nil, nil)
	e := c.read()
	var got map[string]any
	if e.Type != wyoming.TypeInfo || json.Unmarshal(e.Data, &got) != nil {
		t.Fatalf("describe: got %s %s", e.Type, e.Data)
	}
	asr := got["asr"].([]any)[0].(map[string]any)
	if asr["name"] != "hark-whisper" || asr["models"].([]any)[0].(map[string]any)["languages"].([]any)[0] != "en" {
		t.Errorf("info: %s", e.Data)
	}
}

// TestTranscribeFormats: audio in any rate, width and channel count reaches the transcriber as
// 16 kHz mono of the same length and level.
func TestTranscribeFormats(t *testing.T) {
	c := dial(t, start(t, &wyoming.Server{ASR: fakeASR{}}))
	for _, f := range []wyoming.AudioFormat{
		{Rate: 16000, Width: 2, Channels: 1},
		{Rate: 48000, Width: 2, Channels: 2},
		{Rate: 22050, Width: 4, Channels: 1},
		{Rate: 8000, Width: 1, Channels: 1},
		{Rate: 44100, Width: 2, Channels: 6},
	} {
		c.utterance(f, 1, 0.5)
		tr := c.transcript()
		var n int
		var level float64
		fmt.Sscanf(tr.Text, "%d samples level %f", &n, &level)
		if n < 15990 || n > 16010 || math.Abs(level-0.5) > 0.01 || tr.Language != "en" {
			t.Errorf("%+v: transcriber got %q, want 16000 samples at level 0.50, language en", f, tr.Text)
		}
	}
}

// TestBadInput: each broken request gets a clear error; the connection goes on serving when
// the stream can still be read, and closes when it cannot.
func TestBadInput(t *testing.T) {
	addr := start(t, &wyoming.Server{ASR: fakeASR{}, TTS: &fakeTTS{}, MaxUtterance: 2 * time.Second, MaxText: 100})
	f16 := wyoming.AudioFormat{Rate: 16000, Width: 2, Channels: 1}
	t.Run("recoverable", func(t *testing.T) {
		for _, tc := range []struct {
			name, code string
			send       func(c *client)
		}{
			{"width 3", wyoming.CodeAudioFormat, func(c *client) { c.utterance(wyoming.AudioFormat{Rate: 16000, Width: 3, Channels: 1}, 0.5, 0.1) }},
			{"rate 0", wyoming.CodeAudioFormat, func(c *client) { c.utterance(wyoming.AudioFormat{Rate: 0, Width: 2, Channels: 1}, 0, 0.1) }},
			{"99 channels", wyoming.CodeAudioFormat, func(c *client) { c.utterance(wyoming.AudioFormat{Rate: 16000, Width: 2, Channels: 99}, 0, 0.1) }},
			{"odd bytes", wyoming.CodeAudioFormat, func(c *client) {
				c.send(wyoming.TypeAudioStart, f16, nil)
				c.send(wyoming.TypeAudioChunk, f16, []byte{1, 2, 3})
				c.send(wyoming.TypeAudioStop, nil, nil)
			}},
			{"chunk format changes", wyoming.CodeAudioFormat, func(c *client) {
				c.send(wyoming.TypeAudioStart, f16, nil)
				f := wyoming.AudioFormat{Rate: 48000, Width: 2, Channels: 1}
				c.send(wyoming.TypeAudioChunk, f, pcmBytes(f, 100, 0))
				c.send(wyoming.TypeAudioStop, nil, nil)
			}},
			{"endless utterance", wyoming.CodeTooLong, func(c *client) { c.utterance(f16, 5, 0.1) }},
			{"stop without audio", wyoming.CodeBadRequest, func(c *client) { c.send(wyoming.TypeAudioStop, nil, nil) }},
			{"data not matching", wyoming.CodeBadRequest, func(c *client) { c.raw(`{"type":"audio-start","data":{"rate":"fast"}}` + "\n") }},
			{"text too long", wyoming.CodeTooLong, func(c *client) {
				c.send(wyoming.TypeSynthesize, wyoming.Synthesize{Text: strings.Repeat("a", 101)}, nil)
			}},
			{"no text", wyoming.CodeBadRequest, func(c *client) { c.send(wyoming.TypeSynthesize, wyoming.Synthesize{}, nil) }},
			{"chunk without start", wyoming.CodeBadRequest, func(c *client) { c.send(wyoming.TypeSynthesizeChunk, wyoming.SynthesizeChunk{Text: "x"}, nil) }},
			{"streamed text without an end", wyoming.CodeTooLong, func(c *client) {
				c.send(wyoming.TypeSynthesizeStart, wyoming.Synthesize{}, nil)
				for range 3 {
					c.send(wyoming.TypeSynthesizeChunk, wyoming.SynthesizeChunk{Text: strings.Repeat("b", 40)}, nil)
				}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := dial(t, addr)
				tc.send(c)
				t.Log(c.expectError(tc.code))
				// The same connection still works.
				c.utterance(f16, 0.5, 0.25)
				if tr := c.transcript(); !strings.HasPrefix(tr.Text, "8000 samples") {
					t.Errorf("after the error: transcript %q", tr.Text)
				}
			})
		}
	})
	t.Run("fatal", func(t *testing.T) {
		for _, tc := range []struct{ name, send string }{
			{"huge payload_length", `{"type":"audio-chunk","data":{"rate":16000,"width":2,"channels":1},"payload_length":99999999999}` + "\n"},
			{"huge data_length", `{"type":"synthesize","data_length":4000000000}` + "\n"},
			{"negative length", `{"type":"audio-chunk","payload_length":-5}` + "\n"},
			{"not JSON", "hello there\n"},
			{"no type", `{"data":{}}` + "\n"},
			{"data not an object", `{"type":"synthesize","data":[1,2]}` + "\n"},
			{"endless header", strings.Repeat("x", 200<<10)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := dial(t, addr)
				go c.c.Write([]byte(tc.send)) // the server may stop reading before the end
				t.Log(c.expectError(wyoming.CodeProtocol))
				c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := wyoming.ReadEvent(c.r, wyoming.DefaultLimits()); err == nil {
					t.Error("the connection stayed open after a framing error")
				}
			})
		}
	})
}

func TestSynthesize(t *testing.T) {
	tts := &fakeTTS{}
	c := dial(t, start(t, &wyoming.Server{TTS: tts}))
	// One-shot synthesis: audio-start, chunks holding all samples, audio-stop.
	c.send(wyoming.TypeSynthesize, wyoming.Synthesize{Text: "Hello there.", Voice: &wyoming.Voice{Name: "en-us"}}, nil)
	if n := c.audio(); n != 120 {
		t.Errorf("synthesize: %d samples, want 120", n)
	}
	// Streaming: whole sentences are spoken as they arrive; a streaming client's plain
	// synthesize (sent for older servers) is ignored.
	c.send(wyoming.TypeSynthesizeStart, wyoming.Synthesize{}, nil)
	c.send(wyoming.TypeSynthesize, wyoming.Synthesize{Text: "One. Two! 三。"}, nil)
	for _, s := range []string{"On", "e. Tw", "o! 三。", " Rest"} {
		c.send(wyoming.TypeSynthesizeChunk, wyoming.SynthesizeChunk{Text: s}, nil)
	}
	c.send(wyoming.TypeSynthesizeStop, nil, nil)
	if n := c.audio(); n != 10*len("One. Two! 三。 Rest") {
		t.Errorf("streamed: %d samples", n)
	}
	if e := c.read(); e.Type != wyoming.TypeSynthesizeStoppd {
		t.Errorf("after the stream: %s, want synthesize-stopped", e.Type)
	}
	want := []string{"Hello there.", "One.", " Two! 三。", " Rest"}
	if fmt.Sprint(tts.texts) != fmt.Sprint(want) {
		t.Errorf("spoken %q, want %q", tts.texts, want)
	}
}

// audio reads audio-start, chunks and audio-stop, and returns the samples received.
func (c *client) audio() int {
	c.t.Helper()
	if e := c.read(); e.Type != wyoming.TypeAudioStart {
		c.t.Fatalf("got %s %s, want audio-start", e.Type, e.Data)
	}
	n := 0
	for {
		e := c.read()
		switch e.Type {
		case wyoming.TypeAudioChunk:
			var f wyoming.AudioFormat
			if e.Decode(&f) != nil || f.Rate != 22050 || f.Width != 2 || f.Channels != 1 {
				c.t.Fatalf("chunk format %s", e.Data)
			}
			n += len(e.Payload) / 2
		case wyoming.TypeAudioStop:
			return n
		default:
			c.t.Fatalf("got %s in the audio", e.Type)
		}
	}
}

// TestConcurrentClients: clients that misbehave (disconnect mid-stream, stream forever, send
// garbage) do not disturb the ones transcribing at the same time.
func TestConcurrentClients(t *testing.T) {
	addr := start(t, &wyoming.Server{ASR: fakeASR{}, MaxUtterance: 3 * time.Second})
	f := wyoming.AudioFormat{Rate: 48000, Width: 2, Channels: 1}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dial(t, addr)
			switch i % 4 {
			case 0: // disconnects in the middle of a chunk
				c.send(wyoming.TypeAudioStart, f, nil)
				c.raw(`{"type":"audio-chunk","data":{"rate":48000,"width":2,"channels":1},"payload_length":9600}` + "\n" + "abc")
				c.c.Close()
			case 1: // streams forever
				c.send(wyoming.TypeAudioStart, f, nil)
				chunk := pcmBytes(f, 4800, 0.1)
				for range 50 {
					c.send(wyoming.TypeAudioChunk, f, chunk)
				}
				c.expectError(wyoming.CodeTooLong)
			case 2: // garbage
				c.raw("}}}\n")
				c.expectError(wyoming.CodeProtocol)
			case 3:
				for range 3 {
					c.utterance(f, 1, 0.5)
					if tr := c.transcript(); !strings.HasPrefix(tr.Text, "16000 samples") {
						t.Errorf("client %d: transcript %q", i, tr.Text)
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestMaxClients(t *testing.T) {
	addr := start(t, &wyoming.Server{ASR: fakeASR{}, MaxClients: 2})
	a, b := dial(t, addr), dial(t, addr)
	for _, c := range []*client{a, b} { // both are being served
		c.send(wyoming.TypeDescribe, nil, nil)
		c.read()
	}
	dial(t, addr).expectError(wyoming.CodeBusy)
	a.c.Close()
	// The slot frees once the server notices; a new client gets in.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dial(t, addr)
		c.send(wyoming.TypeDescribe, nil, nil)
		if e := c.read(); e.Type == wyoming.TypeInfo {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed client's slot was not freed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestListenURI(t *testing.T) {
	for _, uri := range []string{"127.0.0.1:10300", "unix:///tmp/x", "tcp://127.0.0.1", "tcp://127.0.0.1:http", "tcp://127.0.0.1:99999"} {
		if ln, err := wyoming.Listen(uri); err == nil {
			ln.Close()
			t.Errorf("Listen(%q) accepted it", uri)
		}
	}
}

// TestAnnounceRefusesLoopback: an announcement of a loopback-only server would send
// multicast that points nowhere; it is refused before anything is sent.
func TestAnnounceRefusesLoopback(t *testing.T) {
	stop, err := wyoming.Announce("hark-test", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 10300})
	if err == nil {
		stop()
		t.Fatal("Announce accepted a loopback address")
	}
	if !strings.Contains(err.Error(), "loopback") {
		t.Errorf("error %q does not say why", err)
	}
}

// BenchmarkRoundTrip is the protocol's own cost for an 11-second utterance (jfk.wav's length)
// sent as 100 ms chunks of 16-bit audio, with a transcriber that answers at once: what the
// Wyoming path adds to the engine's time (rate 48000 adds the resampler).
func BenchmarkRoundTrip(b *testing.B) {
	for _, rate := range []int{16000, 48000} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			ln, err := wyoming.Listen("tcp://127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go (&wyoming.Server{ASR: fakeASR{}}).Serve(ctx, ln)
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			c := &client{b, conn, wyoming.NewReader(conn, wyoming.DefaultLimits())}
			f := wyoming.AudioFormat{Rate: rate, Width: 2, Channels: 1}
			for b.Loop() {
				c.utterance(f, 11, 0.3)
				c.transcript()
			}
		})
	}
}

// slowASR works until its context ends, and reports that it ended.
type slowASR struct{ cancelled chan struct{} }

func (a slowASR) Transcribe(ctx context.Context, pcm []float32, lang string) (wyoming.Transcript, error) {
	select {
	case <-ctx.Done():
		close(a.cancelled)
		return wyoming.Transcript{}, ctx.Err()
	case <-time.After(time.Minute):
		return wyoming.Transcript{Text: "nobody hung up"}, nil
	}
}

// TestHangUpStopsTranscription: a client that leaves while its audio is transcribed does not
// keep the engine busy.
func TestHangUpStopsTranscription(t *testing.T) {
	a := slowASR{make(chan struct{})}
	c := dial(t, start(t, &wyoming.Server{ASR: a}))
	c.utterance(wyoming.AudioFormat{Rate: 16000, Width: 2, Channels: 1}, 0.5, 0.1)
	time.Sleep(100 * time.Millisecond) // let the transcription start
	c.c.Close()
	select {
	case <-a.cancelled:
	case <-time.After(20 * time.Second):
		t.Fatal("the transcription went on after the client hung up")
	}
}
