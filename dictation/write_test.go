package dictation

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hark/internal/subcheck"
)

var sample = []Segment{
	{Start: 300 * time.Millisecond, End: 2100 * time.Millisecond, Text: "The patient reports a headache."},
	{Start: 2100 * time.Millisecond, End: 5 * time.Second, Text: "It started\n\nthree days ago --> worse at night."},
	{Start: 59*time.Minute + 59*time.Second + 999*time.Millisecond, End: time.Hour + 1500*time.Millisecond, Text: "  No fever. "},
	{Start: 2*time.Hour + 3*time.Minute, End: 2*time.Hour + 3*time.Minute + 4*time.Second, Text: "肚子疼"},
}

// checkCues checks a subtitle file's cues (read by [subcheck], which fails on a malformed
// file, cues out of order or overlapping) against sample.
func checkCues(t *testing.T, cues []subcheck.Cue, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(cues) != len(sample) {
		t.Fatalf("%d cues, want %d", len(cues), len(sample))
	}
	for i, c := range cues {
		if c.Start != sample[i].Start.Truncate(time.Millisecond) || c.End != sample[i].End.Truncate(time.Millisecond) {
			t.Errorf("cue %d: %v --> %v, want %v --> %v", i, c.Start, c.End, sample[i].Start, sample[i].End)
		}
		if want := strings.Join(strings.Fields(strings.ReplaceAll(sample[i].Text, "-->", "->")), " "); c.Text != want {
			t.Errorf("cue %d: text %q, want %q", i, c.Text, want)
		}
	}
}

func TestWriteSRT(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, SRT, sample, "en"); err != nil {
		t.Fatal(err)
	}
	cues, err := subcheck.SRT(b.Bytes())
	checkCues(t, cues, err)
}

func TestWriteVTT(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, VTT, sample, "en"); err != nil {
		t.Fatal(err)
	}
	cues, err := subcheck.VTT(b.Bytes())
	checkCues(t, cues, err)
}

func TestWriteTXT(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, TXT, sample, ""); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(sample) || lines[1] != "It started three days ago -> worse at night." || lines[2] != "No fever." {
		t.Errorf("txt: %q", b.String())
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, JSON, sample, "en"); err != nil {
		t.Fatal(err)
	}
	var got JSONTranscript
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Language != "en" || len(got.Segments) != len(sample) || got.Text != Text(sample) {
		t.Fatalf("json: %s", b.String())
	}
	for i, s := range got.Segments {
		if s.Text != sample[i].Text || s.Start != sample[i].Start.Seconds() || s.End != sample[i].End.Seconds() {
			t.Errorf("segment %d: %+v", i, s)
		}
	}
	b.Reset()
	if err := WriteJSON(&b, nil, ""); err != nil || !strings.Contains(b.String(), `"segments": []`) {
		t.Errorf("empty transcript: %s %v", b.String(), err)
	}
}

// TestJoin: words get a space between them, Chinese and Japanese none, in running text
// (Text, the carried-over prompt) and inside a cue.
func TestJoin(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"Hello", "world.", "Hello world."},
		{" Hello ", " world. ", "Hello world."},
		{"", " 你好", "你好"},
		{"病人咳嗽三天了。", "没有发烧。", "病人咳嗽三天了。没有发烧。"},
		{"三号机床", "需要加油", "三号机床需要加油"},
		{"用了 Hark", "很好", "用了 Hark很好"},
		{"Hark", "很好", "Hark很好"},
		{"東京へ", "行きます", "東京へ行きます"},
		{"안녕하세요", "반갑습니다", "안녕하세요 반갑습니다"},
	}
	for _, tt := range tests {
		if got := Join(tt.a, tt.b); got != tt.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
	var b bytes.Buffer
	WriteTXT(&b, []Segment{{Text: " 病人 咳嗽 三天了。"}, {Text: "No  fever."}})
	if b.String() != "病人咳嗽三天了。\nNo fever.\n" {
		t.Errorf("txt %q", b.String())
	}
	if got := Text([]Segment{{Text: "病人咳嗽。"}, {Text: "没有发烧。"}, {Text: "OK then."}}); got != "病人咳嗽。没有发烧。OK then." {
		t.Errorf("Text = %q", got)
	}
}

func TestStamp(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "00:00:00,000"},
		{-time.Second, "00:00:00,000"},
		{61*time.Second + 5*time.Millisecond, "00:01:01,005"},
		{100*time.Hour + 999999*time.Microsecond, "100:00:00,999"},
	} {
		if got := stamp(tt.d, ','); got != tt.want {
			t.Errorf("stamp(%v) = %s, want %s", tt.d, got, tt.want)
		}
	}
}
