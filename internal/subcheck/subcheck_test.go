package subcheck

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestValid(t *testing.T) {
	srt := "1\n00:00:00,300 --> 00:00:02,100\nThe patient reports a headache.\n\n" +
		"2\n00:00:02,100 --> 00:00:05,000\nIt started\nthree days ago.\n\n" +
		"3\n100:59:59,999 --> 101:00:01,500\n肚子疼\n\n"
	want := []Cue{
		{300 * time.Millisecond, 2100 * time.Millisecond, "The patient reports a headache."},
		{2100 * time.Millisecond, 5 * time.Second, "It started\nthree days ago."},
		{100*time.Hour + 59*time.Minute + 59999*time.Millisecond, 101*time.Hour + 1500*time.Millisecond, "肚子疼"},
	}
	check := func(name string, got []Cue, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d cues, want %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: cue %d = %+v, want %+v", name, i+1, got[i], want[i])
			}
		}
	}
	got, err := SRT([]byte(srt))
	check("srt", got, err)
	vtt := "WEBVTT\n\n" + strings.NewReplacer("1\n0", "0", "2\n0", "0", "3\n1", "1", ",", ".").Replace(srt)
	got, err = VTT([]byte(vtt))
	check("vtt", got, err)
	for _, empty := range []string{"WEBVTT\n", "WEBVTT\n\n"} {
		if got, err := VTT([]byte(empty)); err != nil || len(got) != 0 {
			t.Errorf("VTT(%q) = %v, %v", empty, got, err)
		}
	}
	if got, err := SRT(nil); err != nil || len(got) != 0 {
		t.Errorf("SRT(empty) = %v, %v", got, err)
	}
}

// TestMalformed: each file breaks one rule and must be refused. The WebVTT cases are the
// SubRip ones without cue numbers, with '.' before the milliseconds.
func TestMalformed(t *testing.T) {
	const one = "1\n00:00:01,000 --> 00:00:02,000\nOne.\n\n"
	for _, c := range []struct {
		name, srt string
		vtt       bool // the case applies to WebVTT too
	}{
		{"no number", "00:00:01,000 --> 00:00:02,000\nOne.\n\n", false},
		{"numbered from 0", "0\n00:00:01,000 --> 00:00:02,000\nOne.\n\n", false},
		{"numbers skip", one + "3\n00:00:03,000 --> 00:00:04,000\nTwo.\n\n", false},
		{"wrong separator before milliseconds", "1\n00:00:01.000 --> 00:00:02,000\nOne.\n\n", false},
		{"two-digit milliseconds", "1\n00:00:01,00 --> 00:00:02,000\nOne.\n\n", true},
		{"one-digit hours", "1\n0:00:01,000 --> 00:00:02,000\nOne.\n\n", true},
		{"60 seconds", "1\n00:00:60,000 --> 00:01:02,000\nOne.\n\n", true},
		{"60 minutes", "1\n00:60:01,000 --> 01:00:02,000\nOne.\n\n", true},
		{"no arrow", "1\n00:00:01,000 00:00:02,000\nOne.\n\n", true},
		{"ends before it starts", "1\n00:00:02,000 --> 00:00:01,000\nOne.\n\n", true},
		{"overlap", one + "2\n00:00:01,500 --> 00:00:03,000\nTwo.\n\n", true},
		{"out of order", "1\n00:00:05,000 --> 00:00:06,000\nOne.\n\n2\n00:00:01,000 --> 00:00:02,000\nTwo.\n\n", true},
		{"no text", "1\n00:00:01,000 --> 00:00:02,000\n\n", true},
		{"blank text line", "1\n00:00:01,000 --> 00:00:02,000\n \n\n", true},
		{"no blank line at the end", "1\n00:00:01,000 --> 00:00:02,000\nOne.\n", true},
		{"two blank lines", one + "\n2\n00:00:03,000 --> 00:00:04,000\nTwo.\n\n", true},
		{"arrow in text", "1\n00:00:01,000 --> 00:00:02,000\nOne --> two.\n\n", true},
		{"not UTF-8", "1\n00:00:01,000 --> 00:00:02,000\nOne \xff.\n\n", true},
	} {
		if _, err := SRT([]byte(c.srt)); err == nil {
			t.Errorf("SRT accepted %s: %q", c.name, c.srt)
		}
		if !c.vtt {
			continue
		}
		vtt := "WEBVTT\n\n" + regexp.MustCompile(`(?m)^\d+\n(\d+:)`).ReplaceAllString(strings.ReplaceAll(c.srt, ",", "."), "$1")
		if _, err := VTT([]byte(vtt)); err == nil {
			t.Errorf("VTT accepted %s: %q", c.name, vtt)
		}
	}
	for _, vtt := range []string{
		"00:00:01.000 --> 00:00:02.000\nOne.\n\n",         // no header
		"WEBVTT\n00:00:01.000 --> 00:00:02.000\nOne.\n\n", // no blank line after it
		"WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nOne.\n\n",
		"WEBVTT\n\n00:00:01,000 --> 00:00:02.000\nOne.\n\n",
	} {
		if _, err := VTT([]byte(vtt)); err == nil {
			t.Errorf("VTT accepted %q", vtt)
		}
	}
}
