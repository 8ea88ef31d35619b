package main

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/app"
	"hark/internal/testmodels"
	"hark/knowledge"
)

// TestE2EKioskKnowledge runs the kiosk window with the test corpus indexed, as an operator
// would set it up: a question the documents answer gets its sources under the reply (a tap
// opens the passage), one they do not cover gets "I don't know", a document written into the
// watched folder while the kiosk runs is answered from without a restart, and the admin
// settings list the documents. The screenshots are kept in the test's artifact folder.
func TestE2EKioskKnowledge(t *testing.T) {
	data := t.TempDir()
	docs := filepath.Join(t.TempDir(), "venue")
	if err := os.CopyFS(docs, os.DirFS("knowledge/testdata/corpus")); err != nil {
		t.Fatal(err)
	}
	st, err := knowledge.Open(context.Background(), filepath.Join(data, "hark", "knowledge.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Add(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	st.Close()

	w := startWindowEnv(t, "kiosk-knowledge", []string{"XDG_DATA_HOME=" + data, "HARK_ASSISTANT_MAX_TOKENS=16"},
		"--mode", "kiosk", "--no-supervise",
		"--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"), "--llm-model", slowModel(t))
	w.click(640, 400) // a tap dismisses the attract screen
	i := w.ready(60 * time.Second)
	entry := [2]int{600, 777}

	// Answered from the documents: the reply event and the window carry the source.
	w.typeQuestion(entry[0], entry[1], "Where is the nearest pharmacy?")
	rep, i := w.events.waitFor(t, i, 90*time.Second, "reply", isKind("reply"))
	if src := sourcesOf(rep); len(src) == 0 || !strings.Contains(src[0], "Pharmacy and first aid") {
		t.Errorf("reply sources %q, want the guide's pharmacy section first", src)
	}
	_, i = w.events.waitFor(t, i, 30*time.Second, "turn_done", isKind("turn_done"))
	w.shot("1-sources")
	w.click(sourceButton[0], sourceButton[1])
	w.shot("2-passage-open")

	// Not covered: the kiosk never guesses.
	w.typeQuestion(entry[0], entry[1], "Who won the football world cup in 1998?")
	rep, i = w.events.waitFor(t, i, 30*time.Second, "reply", isKind("reply"))
	if rep.str("text") != app.DontKnow || len(sourcesOf(rep)) != 0 {
		t.Errorf("uncovered question: reply %q sources %q, want %q and none", rep.str("text"), sourcesOf(rep), app.DontKnow)
	}
	_, i = w.events.waitFor(t, i, 30*time.Second, "turn_done", isKind("turn_done"))
	w.shot("3-dont-know")

	// A document written into the watched folder while the kiosk runs.
	if err := os.WriteFile(filepath.Join(docs, "lost-property.md"),
		[]byte("# Lost property\n\nLost umbrellas and gloves are kept at the cloakroom beside gate B for thirty days.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		time.Sleep(2 * time.Second) // the watch re-indexes about a second after the last change
		w.typeQuestion(entry[0], entry[1], "Where are lost umbrellas kept?")
		rep, i = w.events.waitFor(t, i, 90*time.Second, "reply", isKind("reply"))
		_, i = w.events.waitFor(t, i, 30*time.Second, "turn_done", isKind("turn_done"))
		if got = sourcesOf(rep); len(got) > 0 {
			break
		}
	}
	if len(got) == 0 || !strings.HasPrefix(got[0], "lost-property.md") {
		t.Errorf("after writing lost-property.md into the watched folder: sources %q", got)
	}

	// The admin settings, behind the chord, list the documents.
	before := w.shot("4-watched-document")
	w.xdo("key", "ctrl+alt+shift+s")
	settings := w.shotWhenChanged("5-settings", before, image.Rect(320, 690, 960, 770))
	w.click(documentsButton[0], documentsButton[1])
	shot := w.shotWhenChanged("6-documents", settings, image.Rect(320, 100, 960, 300))
	// The listed folder's name, in white bold, where the dialog's first row is; the list
	// comes from the index a moment after the dialog opens.
	for deadline := time.Now().Add(30 * time.Second); ; shot = w.shot("6-documents") {
		n := brightPixels(readPNG(t, shot), image.Rect(340, 140, 500, 200))
		if n >= 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the documents dialog shows no folder (%d bright pixels): %s", n, shot)
		}
	}
}

// shotWhenChanged takes screenshots until the area r differs from the screenshot before (a
// dialog opened: the settings list the devices first, which takes a moment), and returns the
// last one. The deadline only stops a dialog that never opens from hanging the test.
func (w *harkWindow) shotWhenChanged(name, before string, r image.Rectangle) string {
	w.t.Helper()
	a := readPNG(w.t, before)
	for deadline := time.Now().Add(30 * time.Second); ; {
		p := w.shot(name)
		b := readPNG(w.t, p)
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				r0, g0, b0, _ := a.At(x, y).RGBA()
				r1, g1, b1, _ := b.At(x, y).RGBA()
				if absDiff(r0, r1)+absDiff(g0, g1)+absDiff(b0, b1) > 3*0x1800 {
					n++
				}
			}
		}
		if n > 400 {
			return p
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: nothing changed in %v within 30 s", name, r)
		}
	}
}

// brightPixels counts the near-white pixels of img in r (text on the dark theme).
func brightPixels(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if cr > 0xd000 && cg > 0xd000 && cb > 0xd000 {
				n++
			}
		}
	}
	return n
}

// Where the kiosk (fullscreen 1280×800) draws the first source's button under the first
// reply, and the settings dialog's Documents button.
var (
	sourceButton    = [2]int{300, 354}
	documentsButton = [2]int{500, 728}
)

// sourcesOf lists a reply event's sources.
func sourcesOf(e event) []string {
	var out []string
	list, _ := e["sources"].([]any)
	for _, s := range list {
		if m, ok := s.(map[string]any); ok {
			src, _ := m["source"].(string)
			out = append(out, src)
		}
	}
	return out
}
