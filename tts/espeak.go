package tts

/*
#cgo LDFLAGS: -l:libespeak-ng.a -l:libsonic.a -lm
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <espeak-ng/speak_lib.h>

extern int harkEspeakSamples(short *wav, int n, uintptr_t job);

static int hark_espeak_cb(short *wav, int n, espeak_EVENT *ev) {
	return harkEspeakSamples(wav, n, ev ? (uintptr_t)ev->user_data : 0);
}

// hark_espeak_init returns the output sample rate, or a negative espeak_ERROR.
static int hark_espeak_init(const char *path) {
	// 100 ms buffers: the callback (and with it the cancellation check) runs every 100 ms of audio.
	int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 100, path, espeakINITIALIZE_DONT_EXIT);
	if (rate > 0) {
		espeak_SetSynthCallback(hark_espeak_cb);
	}
	return rate;
}

static int hark_espeak_synth(const char *text, uintptr_t job) {
	return espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
		espeakCHARS_UTF8 | espeakENDPAUSE, NULL, (void *)job);
}

static int hark_espeak_set_language(const char *lang) {
	espeak_VOICE v;
	memset(&v, 0, sizeof v);
	v.languages = lang;
	return espeak_SetVoiceByProperties(&v);
}

static const espeak_VOICE **hark_espeak_list(int variants) {
	if (!variants) {
		return espeak_ListVoices(NULL);
	}
	espeak_VOICE v;
	memset(&v, 0, sizeof v);
	v.languages = "variant";
	return espeak_ListVoices(&v);
}

// hark_espeak_phonemes returns the phonemes (espeak-ng's ASCII mnemonics) of text, clause by
// clause separated by spaces, into out (at most n bytes); it returns the length written.
static int hark_espeak_phonemes(const char *text, char *out, int n) {
	const void *p = text;
	int len = 0;
	out[0] = 0;
	while (p != NULL && len < n - 1) {
		const char *ph = espeak_TextToPhonemes(&p, espeakCHARS_UTF8, espeakPHONEMES_SHOW);
		if (ph == NULL) {
			break;
		}
		int m = (int)strlen(ph);
		if (len > 0 && len < n - 1 && m > 0) {
			out[len++] = ' ';
		}
		if (m > n - 1 - len) {
			m = n - 1 - len;
		}
		memcpy(out + len, ph, m);
		len += m;
		out[len] = 0;
	}
	return len;
}

static const espeak_VOICE *hark_voice_at(const espeak_VOICE **list, int i) { return list[i]; }
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime/cgo"
	"strings"
	"sync"
	"unsafe"

	"hark/audio"
)

// Espeak speaks with libespeak-ng, linked into the binary. The library keeps one synthesizer
// per process, so every Espeak value shares it and calls are serialized; a sentence takes a few
// milliseconds, so that costs nothing in practice.
type Espeak struct {
	closed bool
}

var _ Synthesizer = (*Espeak)(nil)

// engine is libespeak-ng's process-wide state, mirrored on the Go side: the C library has one
// global synthesizer, so this is the one place that owns it.
var engine struct {
	once sync.Once
	err  error
	rate int

	mu    sync.Mutex // held for every call into the library after initialization
	voice string     // voice selected in the library ("" = none yet)
}

// NewEspeak loads espeak-ng's data (from the system's espeak-ng-data, or $ESPEAK_DATA_PATH) and
// returns a synthesizer.
func NewEspeak() (*Espeak, error) {
	engine.once.Do(func() {
		rate := int(C.hark_espeak_init(nil))
		if rate <= 0 {
			engine.err = errors.New("tts: espeak-ng could not load its data (is the espeak-ng-data package installed?)")
			return
		}
		engine.rate = rate
	})
	if engine.err != nil {
		return nil, engine.err
	}
	return &Espeak{}, nil
}

// SampleRate is the rate of the PCM Synthesize returns (22050 Hz for espeak-ng's voices).
func (e *Espeak) SampleRate() int { return engine.rate }

// Close releases the synthesizer. The library itself stays loaded for the life of the process
// (another Espeak may share it); closing twice is harmless.
func (e *Espeak) Close() error {
	engine.mu.Lock()
	e.closed = true
	engine.mu.Unlock()
	return nil
}

// synthJob collects the samples of one Synthesize call; the callback reaches it through a
// cgo.Handle passed as espeak's user data.
type synthJob struct {
	ctx     context.Context
	samples []float32
}

//export harkEspeakSamples
func harkEspeakSamples(wav *C.short, n C.int, job C.uintptr_t) C.int {
	if job == 0 {
		return 0
	}
	j := cgo.Handle(job).Value().(*synthJob)
	if j.ctx.Err() != nil {
		return 1 // abort synthesis
	}
	if wav == nil || n <= 0 {
		return 0
	}
	for _, s := range unsafe.Slice((*int16)(unsafe.Pointer(wav)), int(n)) {
		j.samples = append(j.samples, float32(s)/32768)
	}
	return 0
}

// Synthesize speaks text (plain text: run it through Clean first) with voice v and returns
// mono PCM at SampleRate.
func (e *Espeak) Synthesize(ctx context.Context, text string, v Voice) (audio.PCM, error) {
	if err := ctx.Err(); err != nil {
		return audio.PCM{}, err
	}
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if e.closed {
		return audio.PCM{}, errors.New("tts: espeak-ng synthesizer is closed")
	}
	v = ResolveVoice(v)
	job := &synthJob{ctx: ctx, samples: make([]float32, 0, 16*len(text)*engine.rate/1000)}
	h := cgo.NewHandle(job)
	defer h.Delete()
	for _, r := range voiceRuns(text, v) {
		if err := selectVoice(r.voice); err != nil {
			return audio.PCM{}, err
		}
		ctext := C.CString(strings.ToValidUTF8(strings.ReplaceAll(r.text, "\x00", ""), ""))
		rc := C.hark_espeak_synth(ctext, C.uintptr_t(h))
		C.free(unsafe.Pointer(ctext))
		if err := ctx.Err(); err != nil {
			return audio.PCM{}, err
		}
		if rc != C.EE_OK {
			return audio.PCM{}, fmt.Errorf("tts: espeak-ng synthesis failed (code %d)", int(rc))
		}
	}
	return audio.PCM{Rate: engine.rate, Samples: job.samples}, nil
}

// Phonemes returns what voice v would say for text, as espeak-ng's phoneme mnemonics (what
// `espeak-ng -x` prints), a run at a time for text that mixes scripts: the check that a
// voice reads a language, without listening.
func (e *Espeak) Phonemes(text string, v Voice) (string, error) {
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if e.closed {
		return "", errors.New("tts: espeak-ng synthesizer is closed")
	}
	v = ResolveVoice(v)
	var out []string
	buf := (*C.char)(C.malloc(C.size_t(phonemeBuf)))
	defer C.free(unsafe.Pointer(buf))
	for _, r := range voiceRuns(text, v) {
		if err := selectVoice(r.voice); err != nil {
			return "", err
		}
		ctext := C.CString(strings.ToValidUTF8(strings.ReplaceAll(r.text, "\x00", ""), ""))
		n := C.hark_espeak_phonemes(ctext, buf, C.int(phonemeBuf))
		C.free(unsafe.Pointer(ctext))
		if p := strings.TrimSpace(C.GoStringN(buf, n)); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " "), nil
}

const phonemeBuf = 64 << 10

// selectVoice makes v the library's voice; engine.mu is held.
func selectVoice(v Voice) error {
	key := "name:" + v.Name
	if v.Name == "" {
		lang := v.Language
		if lang == "" {
			lang = "en"
		}
		key = "lang:" + strings.ToLower(lang)
	}
	if key != engine.voice {
		var rc C.espeak_ERROR
		if v.Name != "" {
			cname := C.CString(v.Name)
			rc = C.espeak_SetVoiceByName(cname)
			C.free(unsafe.Pointer(cname))
		} else {
			clang := C.CString(strings.TrimPrefix(key, "lang:"))
			rc = C.espeak_ERROR(C.hark_espeak_set_language(clang))
			C.free(unsafe.Pointer(clang))
		}
		if rc != C.EE_OK {
			engine.voice = ""
			what := v.Name
			if what == "" {
				what = "for language " + strings.TrimPrefix(key, "lang:")
			}
			return fmt.Errorf("tts: espeak-ng voice %s: %w; `hark voices` lists them", quoteName(what, v.Name != ""), ErrVoiceNotFound)
		}
		engine.voice = key
	}
	rate, pitch := v.Rate, v.Pitch
	if rate == 0 {
		rate = C.espeakRATE_NORMAL
	}
	if pitch == 0 {
		pitch = 50
	}
	rate = min(max(rate, C.espeakRATE_MINIMUM), C.espeakRATE_MAXIMUM)
	pitch = min(max(pitch, 1), 100)
	C.espeak_SetParameter(C.espeakRATE, C.int(rate), 0)
	C.espeak_SetParameter(C.espeakPITCH, C.int(pitch), 0)
	return nil
}

func quoteName(s string, quote bool) string {
	if quote {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// Voices lists the installed voices, then the variants that can be added to any of them
// ("en-us+f3").
func (e *Espeak) Voices() ([]VoiceInfo, error) {
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if e.closed {
		return nil, errors.New("tts: espeak-ng synthesizer is closed")
	}
	var out []VoiceInfo
	for _, variants := range []bool{false, true} {
		flag := C.int(0)
		if variants {
			flag = 1
		}
		list := C.hark_espeak_list(flag)
		if list == nil {
			continue
		}
		for i := 0; ; i++ {
			cv := C.hark_voice_at(list, C.int(i))
			if cv == nil {
				break
			}
			vi := VoiceInfo{
				Name:    C.GoString(cv.name),
				ID:      C.GoString(cv.identifier),
				Variant: variants,
			}
			switch cv.gender {
			case 1:
				vi.Gender = "male"
			case 2:
				vi.Gender = "female"
			}
			vi.Languages = voiceLanguages(cv.languages)
			if variants {
				// "!v/f3" names the variant file; Voice.Name takes "+f3" after a voice.
				vi.ID = "+" + vi.ID[strings.LastIndexByte(vi.ID, '/')+1:]
				vi.Languages = nil
			}
			out = append(out, vi)
		}
	}
	return out, nil
}

// voiceLanguages decodes espeak's language list: (priority byte, NUL-terminated name)* then NUL.
func voiceLanguages(p *C.char) []string {
	if p == nil {
		return nil
	}
	var langs []string
	b := (*byte)(unsafe.Pointer(p))
	for off := 0; off < 1024; {
		if *(*byte)(unsafe.Add(unsafe.Pointer(b), off)) == 0 {
			break // end of list
		}
		off++ // skip the priority byte
		name := C.GoString((*C.char)(unsafe.Add(unsafe.Pointer(b), off)))
		langs = append(langs, name)
		off += len(name) + 1
	}
	return langs
}
