package tts

import (
	"context"
	"testing"
)

// TestEspeakVoiceNames: every way `hark voices` names a voice works as Voice.Name.
func TestEspeakVoiceNames(t *testing.T) {
	e := newEspeak(t)
	for _, v := range []Voice{{Name: "gmw/en-US"}, {Name: "en-us"}, {Name: "English (America)"}, {Name: "en-us+f3"},
		{Name: "gmw/en-US+Andrea"}, {Language: "de"}, {Language: "en-GB"}, {Name: "en", Rate: 300, Pitch: 80}} {
		pcm, err := e.Synthesize(context.Background(), "Hello.", v)
		if err != nil || len(pcm.Samples) == 0 {
			t.Errorf("Synthesize with %+v: %d samples, %v", v, len(pcm.Samples), err)
		}
	}
}
