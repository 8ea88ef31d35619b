package models

import (
	"strings"
	"testing"
)

func TestManifestBuiltIn(t *testing.T) {
	m, err := LoadManifest()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[Kind]int{}
	for _, e := range m.Models {
		kinds[e.Kind]++
		if !strings.HasPrefix(e.URL, "https://huggingface.co/") {
			t.Errorf("%s: url %s is not on Hugging Face", e.Name, e.URL)
		}
		if !strings.HasSuffix(e.URL, "/"+e.File) {
			t.Errorf("%s: url %s does not end in the file name %s", e.Name, e.URL, e.File)
		}
		if e.SHA256 == "" && !strings.Contains(e.ChecksumSource, "unknown") {
			t.Errorf("%s: no SHA-256, so checksum_source must say it is unknown (got %q)", e.Name, e.ChecksumSource)
		}
	}
	for _, k := range Kinds() {
		if kinds[k] == 0 {
			t.Errorf("no %s in the manifest", k.Describe())
		}
	}
	if kinds[ASR] < 6 || kinds[LLM] < 5 {
		t.Errorf("the manifest should offer several whisper sizes and instruct models, has %v", kinds)
	}
	for _, class := range ClassNames() {
		defs, err := m.Defaults(class)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range Kinds() {
			if defs[i].Kind != k {
				t.Errorf("class %s: default %d is %s, want a %s", class, i, defs[i].Name, k)
			}
			if !contains(defs[i].Devices, class) {
				t.Errorf("class %s uses %s, whose devices %v do not list it", class, defs[i].Name, defs[i].Devices)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestParseManifestRejects(t *testing.T) {
	good := string(manifestTOML)
	tests := []struct {
		name, old, new, want string
	}{
		{"unknown field", `name = "whisper-tiny.en"`, "name = \"whisper-tiny.en\"\nsha512 = \"x\"", "sha512"},
		{"bad sha256", `sha256 = "921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f"`, `sha256 = "921E"`, "64 lowercase hex"},
		{"missing source", `checksum_source = "SHA-256: Hugging Face LFS id (quoted by several projects, one from the Hugging Face API)"`, `checksum_source = ""`, "checksum_source"},
		{"class names a missing model", `llm = "qwen2.5-0.5b-instruct"`, `llm = "qwen-nope"`, `"qwen-nope" is not a language model`},
		{"class names the wrong kind", `vad = "silero-vad"` + "\n\n[class.kiosk]", `vad = "whisper-base.en"` + "\n\n[class.kiosk]", "not a voice activity detector"},
		{"wrong extension", `file = "ggml-tiny.en.bin"`, `file = "ggml-tiny.en.gguf"`, "must end in .bin"},
		{"unknown device", `devices = ["kiosk"]`, `devices = ["boat"]`, `unknown device class "boat"`},
		{"duplicate", `name = "whisper-tiny.en-q5_1"`, `name = "whisper-tiny.en"`, "listed twice"},
		{"syntax", `[class.car]`, `[class.car`, "line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("test is stale: manifest lacks %q", tt.old)
			}
			_, err := ParseManifest([]byte(strings.Replace(good, tt.old, tt.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseManifest = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	m, err := LoadManifest()
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Suggest("whisper-base.en-q5"); len(got) == 0 || got[0] != "whisper-base.en-q5_1" {
		t.Errorf("Suggest(whisper-base.en-q5) = %v", got)
	}
	if got := m.Suggest("zzzzzzzzzzzzzzzz"); len(got) != 0 {
		t.Errorf("Suggest(nonsense) = %v, want none", got)
	}
}

// TestClassForLanguage: for any language but English each device class's defaults are
// multilingual models that handle it.
func TestClassForLanguage(t *testing.T) {
	m, err := LoadManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, cn := range ClassNames() {
		c, err := m.Class(cn)
		if err != nil {
			t.Fatal(err)
		}
		for _, lang := range []string{"en", "zh", "auto", "de"} {
			for _, k := range []Kind{ASR, LLM} {
				e, ok := m.Lookup(c.For(lang).Model(k))
				if !ok {
					t.Fatalf("%s/%s: %s %q not in the manifest", cn, lang, k, c.For(lang).Model(k))
				}
				if !e.Speaks(lang) {
					t.Errorf("class %s, language %s: the default %s %s handles %v", cn, lang, k, e.Name, e.Languages)
				}
			}
		}
	}
}
