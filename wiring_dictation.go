package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"hark/asr"
	"hark/audio"
	"hark/dictation"
	"hark/internal/atomicfile"
)

// Long-form transcription (`hark transcribe` on long files, `hark dictate`): the dictation
// package over asr, and the transcript outputs.

// dictationASR adapts *asr.Model to dictation.Transcriber and adds up what the windows cost.
type dictationASR struct {
	m      *asr.Model
	opts   asr.Options
	prompt string // the user's --prompt, kept ahead of the carried-over text

	language string      // the language of the last window with text
	timings  asr.Timings // summed over the windows
	dropped  []string    // what the hallucination guard dropped
	segments []asr.Segment
}

func (t *dictationASR) Transcribe(ctx context.Context, pcm audio.PCM, prompt string) ([]dictation.Segment, error) {
	o := t.opts
	o.Timestamps = true
	if p := strings.TrimSpace(t.prompt + " " + prompt); p != "" {
		o.InitialPrompt = p
	}
	res, err := t.m.Transcribe(ctx, pcm.Samples, o)
	if err != nil {
		return nil, err
	}
	t.timings.Mel += res.Timings.Mel
	t.timings.Encode += res.Timings.Encode
	t.timings.Decode += res.Timings.Decode
	t.timings.Total += res.Timings.Total
	if res.Dropped != "" {
		t.dropped = append(t.dropped, res.Dropped)
	}
	var out []dictation.Segment
	for _, s := range res.Segments {
		t.segments = append(t.segments, s)
		if s.Dropped == "" && strings.TrimSpace(s.Text) != "" {
			out = append(out, dictation.Segment{Start: s.Start, End: s.End, Text: s.Text})
		}
	}
	if len(out) > 0 && res.Language != "" {
		t.language = res.Language
	}
	return out, nil
}

// dictateStream pushes the chunks next returns (io.EOF ends the stream) through d, calling
// show with each window's segments as they come, and returns the whole transcript. Any other
// error from next (a lost microphone, a damaged file) ends the stream too: what was heard up to
// then is transcribed and returned with the error.
func dictateStream(ctx context.Context, d *dictation.Dictation, next func() ([]float32, error), show func([]dictation.Segment)) ([]dictation.Segment, time.Duration, error) {
	var all []dictation.Segment
	var heard int64
	var srcErr error
	for {
		chunk, err := next()
		heard += int64(len(chunk))
		if len(chunk) > 0 {
			segs, perr := d.Push(ctx, chunk)
			all = append(all, segs...)
			if len(segs) > 0 {
				show(segs)
			}
			if perr != nil {
				if ctx.Err() != nil {
					srcErr = ctx.Err()
					break
				}
				return all, audioTime(heard), perr
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				srcErr = err
			}
			break
		}
	}
	// Ctrl-C or a lost device: the utterance in progress is still transcribed.
	segs, err := d.Flush(context.WithoutCancel(ctx))
	all = append(all, segs...)
	if len(segs) > 0 {
		show(segs)
	}
	return all, audioTime(heard), errors.Join(srcErr, err)
}

func audioTime(samples int64) time.Duration {
	return time.Duration(samples) * time.Second / audio.SampleRate
}

// outputFlags are the transcript formats a command can write.
type outputFlags struct {
	txt, srt, vtt, json *bool
	out                 *string
}

func bindOutputFlags(fs *flag.FlagSet, jsonUsage string) outputFlags {
	o := outputFlags{
		txt: fs.Bool("txt", false, "write the transcript as plain text, one segment per line"),
		srt: fs.Bool("srt", false, "write SubRip subtitles (.srt)"),
		vtt: fs.Bool("vtt", false, "write WebVTT subtitles (.vtt)"),
		out: fs.String("out", "", "write to `FILE` (readable by you only) instead of standard output; with several formats, FILE's name with each format's extension"),
	}
	if jsonUsage != "" {
		o.json = fs.Bool("json", false, jsonUsage)
	}
	return o
}

// formats are the formats asked for, in a fixed order; with none, --out FILE's extension
// chooses (.srt, .vtt, .json; else text) and without --out it is text.
func (o outputFlags) formats() []dictation.Format {
	var f []dictation.Format
	for _, c := range []struct {
		on  *bool
		fmt dictation.Format
	}{{o.txt, dictation.TXT}, {o.srt, dictation.SRT}, {o.vtt, dictation.VTT}, {o.json, dictation.JSON}} {
		if c.on != nil && *c.on {
			f = append(f, c.fmt)
		}
	}
	if len(f) == 0 {
		switch strings.ToLower(filepath.Ext(*o.out)) {
		case ".srt":
			return []dictation.Format{dictation.SRT}
		case ".vtt":
			return []dictation.Format{dictation.VTT}
		case ".json":
			if o.json != nil {
				return []dictation.Format{dictation.JSON}
			}
		}
		return []dictation.Format{dictation.TXT}
	}
	return f
}

// asked reports whether a transcript format or file was asked for.
func (o outputFlags) asked() bool {
	return *o.txt || *o.srt || *o.vtt || *o.out != "" || (o.json != nil && *o.json)
}

func (o outputFlags) check() error {
	if *o.out == "" && len(o.formats()) > 1 {
		return fmt.Errorf("%w: several output formats need --out FILE", errUsage)
	}
	return nil
}

// paths are the files each format goes to ("" = standard output).
func (o outputFlags) paths() map[dictation.Format]string {
	fs := o.formats()
	m := map[dictation.Format]string{}
	for _, f := range fs {
		switch {
		case *o.out == "":
			m[f] = ""
		case len(fs) == 1:
			m[f] = *o.out
		default:
			m[f] = strings.TrimSuffix(*o.out, filepath.Ext(*o.out)) + f.Ext()
		}
	}
	return m
}

// write writes the transcript in every format asked for; files are replaced atomically and
// readable by their owner only (a dictation is often private: a clinic visit, a meeting).
func (o outputFlags) write(stdout io.Writer, segs []dictation.Segment, language string) ([]string, error) {
	var written []string
	for _, f := range o.formats() {
		path := o.paths()[f]
		if path == "" {
			if err := dictation.Write(stdout, f, segs, language); err != nil {
				return written, err
			}
			continue
		}
		var b bytes.Buffer
		if err := dictation.Write(&b, f, segs, language); err != nil {
			return written, err
		}
		if err := atomicfile.WriteFile(path, b.Bytes(), 0o600); err != nil {
			return written, fmt.Errorf("writing the transcript: %w", err)
		}
		written = append(written, path)
	}
	return written, nil
}

// dictateWAV transcribes a WAV file of any length through d, reading it chunk by chunk (an
// hour of audio needs no more memory than one window of it).
func dictateWAV(ctx context.Context, path string, d *dictation.Dictation, show func([]dictation.Segment)) ([]dictation.Segment, time.Duration, error) {
	st, err := audio.OpenWAVStream(path)
	if err != nil {
		return nil, 0, err
	}
	defer st.Close()
	return dictateStream(ctx, d, st.Next, show)
}

// soundFile is a sound file opened for transcription: its first maxHead samples (all of a
// shorter file) read, and the rest to stream.
type soundFile struct {
	head   []float32
	rest   func() ([]float32, error) // nil: head is the whole file
	close  func()
	length time.Duration // 0 when unknown
}

// openSound reads a sound file's first window. A WAV file is then streamed chunk by chunk;
// FLAC and MP3 are decoded whole (audio.ReadAudio) and handed out from memory.
func openSound(path string, maxHead int) (soundFile, error) {
	st, err := audio.OpenWAVStream(path)
	if err != nil {
		p, rerr := audio.ReadAudio(path) // FLAC, MP3, or the precise error
		if rerr != nil {
			return soundFile{}, rerr
		}
		f := soundFile{head: p.Samples, close: func() {}, length: p.Duration()}
		if len(p.Samples) > maxHead {
			f.head, f.rest = p.Samples[:maxHead], fromMemory(p.Samples[maxHead:])
		}
		return f, nil
	}
	f := soundFile{close: func() { st.Close() }, length: st.Length()}
	for len(f.head) <= maxHead {
		c, err := st.Next()
		if errors.Is(err, io.EOF) {
			st.Close()
			return f, nil
		}
		if err != nil {
			st.Close()
			return soundFile{}, fmt.Errorf("%s: %w", path, err)
		}
		f.head = append(f.head, c...)
	}
	f.rest = st.Next
	return f, nil
}

// fromMemory hands out x in 10-second chunks, then io.EOF.
func fromMemory(x []float32) func() ([]float32, error) {
	return func() ([]float32, error) {
		if len(x) == 0 {
			return nil, io.EOF
		}
		n := min(len(x), 10*audio.SampleRate)
		c := x[:n]
		x = x[n:]
		return c, nil
	}
}

// all is the whole sound: the head first, then the rest.
func (f soundFile) all() func() ([]float32, error) {
	head := f.head
	return func() ([]float32, error) {
		if head != nil {
			h := head
			head = nil
			return h, nil
		}
		if f.rest == nil {
			return nil, io.EOF
		}
		return f.rest()
	}
}
