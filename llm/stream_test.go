package llm

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTextStream(t *testing.T) {
	tests := []struct {
		name    string
		stops   []string
		pieces  []string
		want    []string // what push/finish show, in order ("" entries omitted)
		stopped bool
		visible int // raw bytes up to the end of the shown text
	}{
		{name: "plain", pieces: []string{"Hello", " world", "."}, want: []string{"Hello", " world", "."}, visible: 12},
		{name: "leading and trailing space dropped", pieces: []string{" ", " Hi", " there", " \n"}, want: []string{"Hi", " there"}, visible: 10},
		{name: "inner whitespace waits for the next word", pieces: []string{"a", "\n\n", "b"}, want: []string{"a", "\n\nb"}, visible: 4},
		{name: "utf-8 split over tokens", pieces: []string{"caf", "\xc3", "\xa9", "!"}, want: []string{"caf", "é", "!"}, visible: 6},
		{name: "4-byte emoji in three tokens", pieces: []string{"\xf0\x9f", "\x98", "\x80 ok"}, want: []string{"😀 ok"}, visible: 7},
		{name: "invalid bytes dropped", pieces: []string{"a\xff", "b\x80c"}, want: []string{"a", "bc"}, visible: 5},
		{name: "incomplete character at the end dropped", pieces: []string{"ok", "\xe2\x82"}, want: []string{"ok"}, visible: 2},
		{name: "stop inside one piece", stops: []string{"User:"}, pieces: []string{"Yes.", " User: hi"}, want: []string{"Yes."}, stopped: true, visible: 4},
		{name: "stop spanning pieces", stops: []string{"<|im_end|>"}, pieces: []string{"Fine", "<|", "im", "_end", "|>more"}, want: []string{"Fine"}, stopped: true, visible: 4},
		{name: "false alarm released", stops: []string{"<|im_end|>"}, pieces: []string{"a <", "|x", "y"}, want: []string{"a", " <|x", "y"}, visible: 6},
		{name: "prefix of stop released at the end", stops: []string{"[INST]"}, pieces: []string{"see [IN"}, want: []string{"see", " [IN"}, visible: 7},
		{name: "earliest of two stops", stops: []string{"BB", "A"}, pieces: []string{"xxBBA"}, want: []string{"xx"}, stopped: true, visible: 2},
		{name: "stop at the very start", stops: []string{"###"}, pieces: []string{"#", "##", "text"}, stopped: true, visible: 0},
		{name: "whitespace before a stop dropped", stops: []string{"\nUser"}, pieces: []string{"Done.", "\n", "User"}, want: []string{"Done."}, stopped: true, visible: 5},
		{name: "only whitespace", pieces: []string{" ", "\n"}, visible: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTextStream(tc.stops)
			var got []string
			stopped := false
			for _, p := range tc.pieces {
				show, stop := s.push([]byte(p))
				if show != "" {
					got = append(got, show)
				}
				if stop {
					stopped = true
					break
				}
			}
			if !stopped {
				if tail := s.finish(); tail != "" {
					got = append(got, tail)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("pieces %q shown as %q, want %q", tc.pieces, got, tc.want)
			}
			if stopped != tc.stopped {
				t.Errorf("stopped = %v, want %v", stopped, tc.stopped)
			}
			if s.shown() != strings.Join(tc.want, "") {
				t.Errorf("shown() = %q, want %q", s.shown(), strings.Join(tc.want, ""))
			}
			if s.visibleRaw != tc.visible {
				t.Errorf("visibleRaw = %d, want %d", s.visibleRaw, tc.visible)
			}
			for _, g := range got {
				if !utf8.ValidString(g) {
					t.Errorf("invalid UTF-8 shown: %q", g)
				}
			}
		})
	}
}

// FuzzTextStream checks the stream's promises on arbitrary pieces: valid UTF-8, no stop
// sequence in the output, the output is the concatenation of what was shown.
func FuzzTextStream(f *testing.F) {
	f.Add([]byte("hello <|im_end|> world"), 3)
	f.Add([]byte("\xe2\x82\xac\xff  x"), 1)
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		s := newTextStream([]string{"<|im_end|>", "\nUser:"})
		var all strings.Builder
		cut = max(1, cut%7+1)
		for i := 0; i < len(data); i += cut {
			show, stop := s.push(data[i:min(len(data), i+cut)])
			all.WriteString(show)
			if stop {
				break
			}
		}
		all.WriteString(s.finish())
		out := all.String()
		if !utf8.ValidString(out) || out != s.shown() || strings.Contains(out, "<|im_end|>") || strings.Contains(out, "\nUser:") {
			t.Fatalf("input %q: output %q", data, out)
		}
	})
}
