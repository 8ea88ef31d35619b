package ui

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"

	"fyne.io/fyne/v2/lang"

	"hark/app"
)

// TestTranslationsComplete: every string the window passes to lang.L is in each shipped
// language (Fyne logs a "Translation failure" for each one missing), and no translation is
// left over from a string that is gone.
func TestTranslationsComplete(t *testing.T) {
	used := map[string]bool{}
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "L" {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "lang" {
				return true
			}
			// lang.L(languageNames[c]) is not a constant: the names are added below.
			if s, ok := constString(call.Args[0]); ok {
				used[s] = true
			}
			return true
		})
	}
	for _, n := range languageNames {
		used[n] = true
	}
	used[defaultMicrophone] = true // lang.L(defaultMicrophone)
	// lang.L(c.Title()) names the engines in the loading banner.
	for _, c := range []app.Component{app.ComponentASR, app.ComponentLLM, app.ComponentVAD, app.ComponentMicrophone, app.ComponentSpeech} {
		used[c.Title()] = true
	}
	if len(used) < 40 {
		t.Fatalf("found only %d strings passed to lang.L", len(used))
	}
	for _, name := range []string{"en.json", "zh_Hans.json"} {
		b, err := translations.ReadFile("translations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for s := range used {
			if _, ok := m[s]; !ok {
				t.Errorf("%s lacks %q", name, s)
			}
		}
		for s := range m {
			if !used[s] {
				t.Errorf("%s translates %q, which the window no longer says", name, s)
			}
		}
	}
}

// constString evaluates a string literal or a concatenation of them.
func constString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		a, ok1 := constString(e.X)
		b, ok2 := constString(e.Y)
		return a + b, ok1 && ok2 && e.Op == token.ADD
	}
	return "", false
}

// TestSetLanguage: the interface language setting switches the window's strings, and
// "system" goes back to the locale the process started with.
func TestSetLanguage(t *testing.T) {
	t.Setenv("LANGUAGE", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LANG", "C")
	defer SetLanguage("system", "en")
	for _, tt := range []struct{ code, system, want string }{
		{"zh", "en", "停止"},
		{"en", "en", "Stop"},
		{"system", "zh_CN", "停止"},
		{"system", "en", "Stop"},
	} {
		SetLanguage(tt.code, tt.system)
		if got := lang.L("Stop"); got != tt.want {
			t.Errorf("SetLanguage(%q, system %q): Stop is %q, want %q", tt.code, tt.system, got, tt.want)
		}
	}
}
