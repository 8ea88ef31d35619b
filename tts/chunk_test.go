package tts

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// chunkAll feeds text to a new Chunker in pieces of the given size (0: all at once) and
// returns every chunk.
func chunkAll(cfg ChunkerConfig, text string, size int) []string {
	c := NewChunker(cfg)
	var out []string
	if size <= 0 {
		size = len(text) + 1
	}
	for i := 0; i < len(text); i += size {
		out = append(out, c.Push(text[i:min(i+size, len(text))])...)
	}
	return append(out, c.Flush()...)
}

func TestChunker(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"sentences", "Hello there. How are you? I'm fine!", []string{"Hello there.", "How are you?", "I'm fine!"}},
		{"no trailing punctuation", "Hello there. And then", []string{"Hello there.", "And then"}},
		{"abbreviations", "Use e.g. apples, i.e. fruit. Dr. Smith agrees.", []string{"Use e.g. apples, i.e. fruit.", "Dr. Smith agrees."}},
		{"decimal", "It is 3.5 km away. Go.", []string{"It is 3.5 km away.", "Go."}},
		{"initials", "J. R. R. Tolkien wrote it. Read it.", []string{"J. R. R. Tolkien wrote it.", "Read it."}},
		{"dotted abbreviation before capital", "Meet at 5 p.m. Then go home.", []string{"Meet at 5 p.m.", "Then go home."}},
		{"dotted abbreviation before lower case", "At 5 p.m. and later. The U.S. economy grew.", []string{"At 5 p.m. and later.", "The U.S. economy grew."}},
		{"etc", "Apples, pears, etc. and more. Fruit etc. Then stop.", []string{"Apples, pears, etc. and more.", "Fruit etc.", "Then stop."}},
		{"number abbreviation", "No. 5 is mine. I said no. Really.", []string{"No. 5 is mine.", "I said no.", "Really."}},
		{"quotes close the sentence", `He said "Stop." Then he left.`, []string{`He said "Stop."`, "Then he left."}},
		{"ellipsis", "Well... I think so. Yes.", []string{"Well...", "I think so.", "Yes."}},
		{"url is not a sentence end", "See example.com for more. Thanks.", []string{"See example.com for more.", "Thanks."}},
		{"lines", "Steps:\n1. Open the app\n2. Press start\n\nDone", []string{"Steps:", "1. Open the app", "2. Press start", "Done"}},
		{"heading", "## Summary\nAll good.", []string{"## Summary", "All good."}},
		{"code fence dropped", "Here:\n```go\nx := 1.5. Yes.\nfmt.Println(x)\n```\nDone. Bye.", []string{"Here:", "Done.", "Bye."}},
		{"unclosed fence dropped", "Try this:\n```\nrm -rf /tmp/x. Really.\n", []string{"Try this:"}},
		{"inline backticks are not a fence", "`make` builds it. Yes.", []string{"`make` builds it.", "Yes."}},
		{"first clause is short", "Well, the capital of France, as you know, is Paris, a city on the Seine.",
			[]string{"Well, the capital of France,", "as you know, is Paris, a city on the Seine."}},
		{"later clauses are long", "Yes. The first thing you should know about the capital of France, which many people visit each year, is that it is Paris.",
			[]string{"Yes.", "The first thing you should know about the capital of France, which many people visit each year,", "is that it is Paris."}},
		{"thousands separator is not a clause", "About 1,000,000 people live in the city of Something Long, it seems.",
			[]string{"About 1,000,000 people live in the city of Something Long,", "it seems."}},
		{"only markup", "```\ncode\n```\n", nil},
		{"cjk", "你好。再见！", []string{"你好。", "再见！"}},
	}
	for _, tt := range tests {
		for _, size := range []int{0, 1, 2, 3, 7} {
			got := chunkAll(ChunkerConfig{}, tt.in, size)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: chunks of %q in pieces of %d:\n got %q\nwant %q", tt.name, tt.in, size, got, tt.want)
			}
		}
	}
}

// TestChunkerMax checks that text with no punctuation is still cut, at spaces, within Max.
func TestChunkerMax(t *testing.T) {
	words := strings.Repeat("lorem ipsum dolor sit amet ", 40)
	chunks := chunkAll(ChunkerConfig{Max: 100}, words, 5)
	if len(chunks) < 10 {
		t.Fatalf("got %d chunks, want at least 10", len(chunks))
	}
	for _, c := range chunks {
		if n := len([]rune(c)); n > 100 {
			t.Errorf("chunk of %d runes > Max 100: %q", n, c)
		}
	}
	if got, want := strings.Join(chunks, " "), strings.TrimSpace(words); got != want {
		t.Errorf("chunks lose or change text:\n got %q\nwant %q", got, want)
	}
}

// TestChunkerStreams checks that a sentence comes out as soon as the text after it shows that
// it is complete, not at the end of the stream.
func TestChunkerStreams(t *testing.T) {
	c := NewChunker(ChunkerConfig{})
	steps := []struct {
		piece string
		want  []string
	}{
		{"Hello", nil},
		{" there", nil},
		{".", nil}, // "there." might still become "there.com"
		{" How", []string{"Hello there."}},
		{" are you", nil},
		{"?", nil},
		{"\n", []string{"How are you?"}},
		{"Dr", nil},
		{".", nil},
		{" Who", nil}, // "Dr." never ends a sentence
	}
	for i, s := range steps {
		if got := c.Push(s.piece); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("step %d: Push(%q) = %q, want %q", i, s.piece, got, s.want)
		}
	}
	if got, want := c.Flush(), []string{"Dr. Who"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Flush() = %q, want %q", got, want)
	}
}

// TestChunkerRandomPieces checks that how the stream is cut into pieces never changes the
// chunks, and that no text except fences and blank space is lost.
func TestChunkerRandomPieces(t *testing.T) {
	text := "Sure! Here are three tips, e.g. for Dr. Who fans:\n1. Watch 3.5 episodes a day.\n" +
		"2. Read \"The U.S. Guide.\" It costs $5.99, etc. and more.\n```\ncode. here.\n```\n" +
		"That's all... Enjoy, and have a wonderful, long, relaxing weekend with your friends and family!"
	want := chunkAll(ChunkerConfig{}, text, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		c := NewChunker(ChunkerConfig{})
		var got []string
		for i := 0; i < len(text); {
			n := 1 + rng.IntN(6)
			end := min(i+n, len(text))
			got = append(got, c.Push(text[i:end])...)
			i = end
		}
		got = append(got, c.Flush()...)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: random pieces give\n%q\nwhole text gives\n%q", trial, got, want)
		}
	}
	joined := strings.Join(want, " ")
	for _, w := range []string{"Sure!", "Dr. Who", "3.5", "The U.S. Guide.", "$5.99", "weekend"} {
		if !strings.Contains(joined, w) {
			t.Errorf("chunks lost %q: %q", w, want)
		}
	}
	if strings.Contains(joined, "code") {
		t.Errorf("fenced code leaked into the chunks: %q", want)
	}
}

func TestChunkerChinese(t *testing.T) {
	cfg := ChunkerConfig{FirstClause: 24, Clause: 60, Max: 120}
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"sentence ends", "今天天气很好。我们去公园吧！好不好？", []string{"今天天气很好。", "我们去公园吧！", "好不好？"}},
		// The first clause may end after 8 characters (24 / 3), the next ones after 20.
		{"clause marks without spaces",
			"今天北京的天气非常好，最高气温二十八度；明天会下雨：记得带伞、穿外套，出门注意安全。",
			[]string{"今天北京的天气非常好，", "最高气温二十八度；明天会下雨：记得带伞、", "穿外套，出门注意安全。"}},
		{"short first clause stays whole", "你好，哈克。", []string{"你好，哈克。"}},
		{"length cut without spaces", strings.Repeat("很", 50), []string{strings.Repeat("很", 40), strings.Repeat("很", 10)}},
		{"mixed with english", "我用 iPhone 打电话，然后发了一封很长的邮件给他。", []string{"我用 iPhone 打电话，", "然后发了一封很长的邮件给他。"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int{0, 1, 3, 7} {
				if got := chunkAll(cfg, tt.in, size); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("pieces of %d bytes: got %q, want %q", size, got, tt.want)
				}
			}
		})
	}
}
