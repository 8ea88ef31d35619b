package asr

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"math"
	"strings"
	"unicode"
)

// Guard is the hallucination guard: the explicit rule that decides which of whisper's segments
// are kept. Whisper, asked to transcribe audio without speech, often "hears" something anyway:
// the phrases its training subtitles ended with ("Thank you.", "Thanks for watching!", 谢谢观看,
// 字幕由Amara.org社区提供,
// "Subtitles by the Amara.org community"), a lone "you", or one phrase repeated until the token
// limit. The rule, applied in this order:
//
//  0. Silence: audio whose peak is below SilencePeakDB is not transcribed at all.
//  1. VAD gate: when Options.RequireSpeech is set and says the audio holds no speech, it is not
//     transcribed at all (see SpeechGate).
//
// Then each segment is dropped when any of these holds (first match is the reason):
//
//  2. No speech (whisper's own rule, as in OpenAI's transcribe.py): the model's no-speech
//     probability is above NoSpeechProb and the segment's average token log-probability is
//     below LogProb.
//  3. Repetition: the text's compression ratio (length / zlib-compressed length) is above
//     CompressionRatio: a loop such as "you you you you ...".
//  4. Annotation: the text is only bracketed non-speech tags or music symbols ("[BLANK_AUDIO]",
//     "(music)", "♪ ♪").
//  5. Phantom phrase: the text, lower-cased without punctuation, is one of Phantoms (or starts
//     with one of PhantomPrefixes) and the statistics say the audio is not clear speech: the
//     no-speech probability is at least PhantomNoSpeechProb or the average log-probability is
//     below PhantomLogProb. A user who really says "thank you" is heard with confidence and
//     kept.
//
// The no-speech probability is computed as OpenAI's whisper does (the decoder's probability of
// the no-speech token at the start of the transcript) for audio whisper encodes in one window
// (up to 30 s); for longer audio it is unknown. Where it is unknown, rule 2 drops a segment whose average
// log-probability is below twice LogProb (-2.0 by default), and rule 5 uses the log-probability
// alone.
type Guard struct {
	Off                 bool    // keep everything whisper returns
	SilencePeakDB       float64 // dBFS; default -60
	NoSpeechProb        float32 // default 0.6 (whisper.cpp's and OpenAI's no_speech_threshold)
	LogProb             float32 // default -1.0 (logprob_threshold)
	CompressionRatio    float32 // default 2.4 (compression_ratio_threshold)
	PhantomNoSpeechProb float32 // default 0.2
	PhantomLogProb      float32 // default -0.7
	Phantoms            []string
	PhantomPrefixes     []string
}

// DefaultGuard returns the guard Transcribe uses when Options.Guard is nil.
func DefaultGuard() *Guard {
	return &Guard{
		SilencePeakDB:       -60,
		NoSpeechProb:        0.6,
		LogProb:             -1.0,
		CompressionRatio:    2.4,
		PhantomNoSpeechProb: 0.2,
		PhantomLogProb:      -0.7,
		Phantoms: []string{
			"you", "thank you", "thank you very much", "thank you so much", "thanks",
			"thanks for watching", "thank you for watching", "thanks for listening",
			"thank you for listening", "bye", "bye bye", "goodbye", "okay", "ok", "so", "oh",
			"hmm", "um", "uh", "the end", "please subscribe", "like and subscribe",
			"dont forget to subscribe", "subscribe to my channel", "see you next time",
			"see you in the next video", "i'll see you next time", "ill see you next time",
			"you you", "music", "silence", "applause", "laughter",
			// Chinese, Simplified and Traditional: what whisper's Chinese subtitles ended with.
			"谢谢观看", "謝謝觀看", "感谢观看", "感謝觀看", "谢谢收看", "謝謝收看", "谢谢大家", "謝謝大家",
			"谢谢", "謝謝", "再见", "再見", "拜拜", "下次见", "下次見", "嗯", "啊", "好", "字幕", "中文字幕",
		},
		PhantomPrefixes: []string{
			"subtitles by", "subtitle by", "subtitled by", "captions by", "captioning by",
			"transcribed by", "transcription by", "translated by", "translation by",
			"sous-titrage", "sous titres", "untertitel", "amaraorg", "amara org",
			"copyright", "www", "http",
			"字幕由", "字幕提供", "字幕by", "字幕志愿者", "字幕志願者", "中文字幕由", "本字幕", "由amara",
			"请不吝点赞", "請不吝點贊", "请不吝點贊", "明镜与点点", "明鏡與點點", "点赞订阅", "點贊訂閱",
			"订阅我的频道", "訂閱我的頻道", "优优独播剧场", "優優獨播劇場",
		},
	}
}

// SegmentStats are the statistics the guard judges a segment by.
type SegmentStats struct {
	Text         string
	NoSpeechProb float32 // negative or NaN when unknown
	AvgLogProb   float32 // mean log-probability of the segment's text tokens
}

// Judge applies rules 2-5 to one segment and returns why it is dropped, or "" to keep it.
func (g *Guard) Judge(s SegmentStats) string {
	if g == nil || g.Off {
		return ""
	}
	text := strings.TrimSpace(s.Text)
	if text == "" {
		return ""
	}
	hasNS := !math.IsNaN(float64(s.NoSpeechProb)) && s.NoSpeechProb >= 0
	if hasNS && s.NoSpeechProb > g.NoSpeechProb && s.AvgLogProb < g.LogProb ||
		!hasNS && s.AvgLogProb < 2*g.LogProb {
		return fmt.Sprintf("no speech: no-speech probability %s, average log-probability %.2f", prob(s.NoSpeechProb), s.AvgLogProb)
	}
	if cr := CompressionRatio(text); g.CompressionRatio > 0 && cr > g.CompressionRatio {
		return fmt.Sprintf("repetition: compression ratio %.2f > %.2f", cr, g.CompressionRatio)
	}
	if isAnnotation(text) {
		return "non-speech annotation"
	}
	if g.isPhantom(text) {
		unsure := s.AvgLogProb < g.PhantomLogProb || hasNS && s.NoSpeechProb >= g.PhantomNoSpeechProb
		if unsure {
			return fmt.Sprintf("phantom phrase %q: no-speech probability %s, average log-probability %.2f", text, prob(s.NoSpeechProb), s.AvgLogProb)
		}
	}
	return ""
}

func prob(p float32) string {
	if math.IsNaN(float64(p)) || p < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.2f", p)
}

func (g *Guard) isPhantom(text string) bool {
	n := normalize(text)
	if n == "" {
		return false
	}
	for _, p := range g.Phantoms {
		if n == normalize(p) {
			return true
		}
	}
	for _, p := range g.PhantomPrefixes {
		if strings.HasPrefix(n, normalize(p)) {
			return true
		}
	}
	return false
}

// normalize lower-cases text, drops punctuation and symbols and collapses spaces, so that
// "Thank you!" and " thank you." compare equal.
func normalize(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case unicode.IsSpace(r):
			space = true
		case r == '-' || r == '\'':
			// "bye-bye" ~ "bye bye"; "don't" ~ "dont"
			if r == '-' {
				space = true
			}
		}
	}
	return b.String()
}

// isAnnotation reports whether text holds only bracketed tags ("[BLANK_AUDIO]", "(music)",
// "*laughs*") and music or punctuation symbols, with no word outside them.
func isAnnotation(text string) bool {
	depth := 0
	var close rune
	outside := false
	tagged := false
	for _, r := range text {
		switch {
		case depth == 0 && (r == '[' || r == '(' || r == '*'):
			depth, tagged = 1, true
			close = map[rune]rune{'[': ']', '(': ')', '*': '*'}[r]
		case depth == 1 && r == close:
			depth = 0
		case depth == 1:
		case r == '♪' || r == '♫' || r == '♬' || r == '♩':
			tagged = true
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			outside = true
		}
	}
	return tagged && !outside
}

// CompressionRatio is len(text) / len(zlib(text)), OpenAI whisper's measure of repetitive
// output: ordinary sentences score below 2, loops well above 2.4.
func CompressionRatio(text string) float32 {
	if text == "" {
		return 0
	}
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	_, _ = w.Write([]byte(text))
	_ = w.Close()
	return float32(len(text)) / float32(b.Len())
}

// peakDB is the peak level of pcm in dBFS (-inf for digital silence).
func peakDB(pcm []float32) float64 {
	var peak float64
	for _, v := range pcm {
		peak = max(peak, math.Abs(float64(v)))
	}
	return 20 * math.Log10(peak)
}
