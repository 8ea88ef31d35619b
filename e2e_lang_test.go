package main

import (
	"image"
	"os/exec"
	"strings"
	"testing"
	"time"

	"hark/internal/testmodels"
)

// TestE2EChineseGlyphs: the window in each mode, in Chinese (the system locale is zh_CN),
// draws Chinese characters, not boxes (and, on the desktop, Traditional Chinese, Japanese and
// Korean too). A Chinese question typed into the entry (desktop,
// kiosk), or the Chinese interface itself (car), is compared with the window before it: the
// changed area is cut into glyphs, and a font without Chinese draws every one of them as the
// same box, where real glyphs have as many shapes as the text has different characters.
func TestE2EChineseGlyphs(t *testing.T) {
	zh := []string{"LANG=zh_CN.UTF-8", "LANGUAGE=zh_CN", "LC_ALL="}
	en := []string{"LANG=en_US.UTF-8", "LANGUAGE=en", "LC_ALL="}
	asr := testmodels.Shared(t, "whisper-tiny-random.en.bin")
	const question = "你好今天天气怎么样"
	typed := func(t *testing.T, name string, entry [2]int, args ...string) {
		w := startWindowEnv(t, name, zh, append(args, "--asr-model", asr, "--llm-model", slowModel(t))...)
		if len(args) > 0 && args[1] == "kiosk" {
			w.click(640, 400) // a tap dismisses the attract screen
		}
		i := w.ready(60 * time.Second)
		before := w.shot("1-ready")
		w.click(entry[0], entry[1])
		time.Sleep(200 * time.Millisecond)
		// xdotool types characters outside the keymap by remapping a key for each, which the
		// window reads late (你好 arrives as 你你); a person with an input method commits the
		// text at once, as pasting does.
		paste(t, question)
		w.xdo("key", "ctrl+v")
		after := w.shot("2-typed")
		checkGlyphs(t, before, after, len([]rune("你好今天气怎么样")))
		w.xdo("key", "Return")
		tr, i := w.events.waitFor(t, i, 20*time.Second, "transcript", isKind("transcript"))
		if tr.str("text") != question {
			t.Errorf("transcript %q, want %q (typed with xdotool)", tr.str("text"), question)
		}
		w.shot("3-conversation")
		if len(args) == 0 {
			// Traditional Chinese, Japanese and Korean in the entry: 天氣怎麼樣こんにちは안녕하세요
			// has 15 characters, all different.
			// Stop the reply first, so that only the entry changes.
			w.click(82, 622)
			w.events.waitFor(t, i, 30*time.Second, "turn_done", isKind("turn_done"))
			before := w.shot("4-before-cjk")
			w.click(entry[0], entry[1])
			paste(t, "天氣怎麼樣こんにちは안녕하세요")
			w.xdo("key", "ctrl+v")
			checkGlyphs(t, before, w.shot("5-cjk"), 13)
		}
		if strings.Contains(w.out.String(), "Fyne error") {
			t.Errorf("Fyne errors in the output:\n%s", w.out.String())
		}
	}
	t.Run("desktop", func(t *testing.T) { typed(t, "zh-desktop", [2]int{200, 697}) })
	t.Run("kiosk", func(t *testing.T) { typed(t, "zh-kiosk", [2]int{600, 777}, "--mode", "kiosk", "--no-supervise") })
	t.Run("car", func(t *testing.T) {
		// The car has no entry: the same window in English and in Chinese, one after the other.
		args := []string{"--mode", "car", "--asr-model", asr, "--llm-model", testmodels.Shared(t, "stories260K.gguf")}
		var before, after string
		t.Run("en", func(t *testing.T) {
			w := startWindowEnv(t, "zh-car-en", en, args...)
			w.ready(60 * time.Second)
			before = w.shot("1-english")
		})
		t.Run("zh", func(t *testing.T) {
			w := startWindowEnv(t, "zh-car", zh, args...)
			w.ready(60 * time.Second)
			after = w.shot("1-chinese")
			if strings.Contains(w.out.String(), "Fyne error") {
				t.Errorf("Fyne errors in the output:\n%s", w.out.String())
			}
		})
		if before != "" && after != "" {
			checkGlyphs(t, before, after, 6)
		}
	})
}

// paste puts text on the X clipboard (xclip serves it until the test ends).
func paste(t *testing.T, text string) {
	t.Helper()
	cmd := exec.Command("xclip", "-quiet", "-selection", "clipboard")
	cmd.Stdin = strings.NewReader(text)
	if err := cmd.Start(); err != nil {
		t.Fatalf("xclip (apt install xclip): %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	time.Sleep(300 * time.Millisecond)
}

// checkGlyphs cuts the area where after differs from before into glyphs and wants at least
// want different shapes among them.
func checkGlyphs(t *testing.T, before, after string, want int) {
	t.Helper()
	a, b := readPNG(t, before), readPNG(t, after)
	r := diffBounds(a, b)
	if r.Empty() {
		t.Fatalf("%s and %s are the same: nothing was drawn", before, after)
	}
	cells, shapes := glyphShapes(b, r)
	t.Logf("%s: the changed area %v holds %d glyphs of %d different shapes", after, r, cells, shapes)
	if shapes < want {
		t.Errorf("%s: %d glyphs of only %d different shapes in %v; want at least %d (boxes instead of characters?)", after, cells, shapes, r, want)
	}
}

func rgb(img image.Image, x, y int) (int, int, int) {
	r, g, b, _ := img.At(x, y).RGBA()
	return int(r >> 8), int(g >> 8), int(b >> 8)
}

func colourDist(r1, g1, b1, r2, g2, b2 int) int {
	return abs(r1-r2) + abs(g1-g2) + abs(b1-b2)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// diffBounds is the smallest rectangle holding every pixel that differs between a and b.
func diffBounds(a, b image.Image) image.Rectangle {
	var r image.Rectangle
	bb := a.Bounds().Intersect(b.Bounds())
	for y := bb.Min.Y; y < bb.Max.Y; y++ {
		for x := bb.Min.X; x < bb.Max.X; x++ {
			r1, g1, b1 := rgb(a, x, y)
			r2, g2, b2 := rgb(b, x, y)
			if colourDist(r1, g1, b1, r2, g2, b2) > 60 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// glyphShapes cuts r of img into glyphs (ink separated by blank rows, then by blank columns;
// ink is what differs from the area's commonest colour) and counts them and their different
// shapes. Each glyph is scaled to an 8×8 grid; two glyphs are the same shape when their sizes
// differ by at most a pixel and their grids by at most 6 cells.
func glyphShapes(img image.Image, r image.Rectangle) (cells, shapes int) {
	counts := map[[3]int]int{}
	var bg [3]int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r, g, b := rgb(img, x, y)
			c := [3]int{r, g, b}
			counts[c]++
			if counts[c] > counts[bg] {
				bg = c
			}
		}
	}
	ink := func(x, y int) bool {
		r, g, b := rgb(img, x, y)
		return colourDist(r, g, b, bg[0], bg[1], bg[2]) > 150
	}
	type shape struct {
		w, h int
		grid [64]bool
	}
	var seen []shape
	rowInk := func(y, x0, x1 int) bool {
		for x := x0; x < x1; x++ {
			if ink(x, y) {
				return true
			}
		}
		return false
	}
	colInk := func(x, y0, y1 int) bool {
		for y := y0; y < y1; y++ {
			if ink(x, y) {
				return true
			}
		}
		return false
	}
	for y := r.Min.Y; y < r.Max.Y; {
		if !rowInk(y, r.Min.X, r.Max.X) {
			y++
			continue
		}
		y0 := y
		for y < r.Max.Y && rowInk(y, r.Min.X, r.Max.X) {
			y++
		}
		y1 := y
		for x := r.Min.X; x < r.Max.X; {
			if !colInk(x, y0, y1) {
				x++
				continue
			}
			x0 := x
			for x < r.Max.X && colInk(x, y0, y1) {
				x++
			}
			x1 := x
			// The glyph's own height within the row.
			gy0, gy1 := y1, y0
			for yy := y0; yy < y1; yy++ {
				if rowInk(yy, x0, x1) {
					gy0, gy1 = min(gy0, yy), max(gy1, yy+1)
				}
			}
			s := shape{w: x1 - x0, h: gy1 - gy0}
			if s.w < 4 || s.h < 4 {
				continue // dots, commas, the text cursor
			}
			for gy := 0; gy < 8; gy++ {
				for gx := 0; gx < 8; gx++ {
					s.grid[gy*8+gx] = ink(x0+gx*s.w/8+s.w/16, gy0+gy*s.h/8+s.h/16)
				}
			}
			cells++
			same := false
			for _, o := range seen {
				d := 0
				for i := range o.grid {
					if o.grid[i] != s.grid[i] {
						d++
					}
				}
				if abs(o.w-s.w) <= 1 && abs(o.h-s.h) <= 1 && d <= 6 {
					same = true
					break
				}
			}
			if !same {
				seen = append(seen, s)
			}
		}
	}
	return cells, len(seen)
}
