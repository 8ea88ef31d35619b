package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"hark/asr"
	"hark/dictation"
)

// TestTranscriptJSONOneLayout: `hark transcribe --json` and `hark dictate --json` (and
// --out FILE.json) share one layout: the keys of dictation.JSONTranscript mean the same in
// both, and the transcribe report only adds keys of its own.
func TestTranscriptJSONOneLayout(t *testing.T) {
	segs := []dictation.Segment{{Start: 1500 * time.Millisecond, End: 3 * time.Second, Text: "病人咳嗽三天了。"}, {Start: 4 * time.Second, End: 5 * time.Second, Text: "OK."}}
	var d bytes.Buffer
	if err := dictation.WriteJSON(&d, segs, "zh"); err != nil {
		t.Fatal(err)
	}
	res := asr.Result{Text: dictation.Text(segs), Language: "zh"}
	for _, s := range segs {
		res.Segments = append(res.Segments, asr.Segment{Start: s.Start, End: s.End, Text: " " + s.Text, NoSpeechProb: -1})
	}
	var tr bytes.Buffer
	if err := writeTranscriptJSON(&tr, asr.Info{}, 5, res, nil); err != nil {
		t.Fatal(err)
	}
	var fromDictate, fromTranscribe dictation.JSONTranscript
	strict := json.NewDecoder(bytes.NewReader(d.Bytes()))
	strict.DisallowUnknownFields()
	if err := strict.Decode(&fromDictate); err != nil {
		t.Fatalf("dictate's JSON: %v", err)
	}
	if err := json.Unmarshal(tr.Bytes(), &fromTranscribe); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromDictate, fromTranscribe) {
		t.Errorf("dictate %+v\ntranscribe %+v", fromDictate, fromTranscribe)
	}
	if fromDictate.Text != "病人咳嗽三天了。OK." {
		t.Errorf("text %q", fromDictate.Text)
	}
	// Every key of the shared layout is in transcribe's report, with the same name.
	var raw map[string]json.RawMessage
	json.Unmarshal(tr.Bytes(), &raw)
	for _, k := range []string{"text", "language", "segments"} {
		if raw[k] == nil {
			t.Errorf("transcribe --json has no %q", k)
		}
	}
}
