package enginetest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hark/internal/testmodels"
)

// TestNoSymbolClashes lists every global symbol defined by the native code that goes into
// bin/hark (the cgo objects of malgo's miniaudio and Hark's own packages, and the static
// whisper.cpp and llama.cpp libraries) and fails when two origins define the same name, unless it
// is a C++ standard library template instantiation, which the compiler emits identically in
// every object that uses it. A clash between the two ggml copies (or two miniaudio copies) would
// otherwise be merged silently by the linker when the symbols are weak, and one engine would run
// the other's code.
func TestNoSymbolClashes(t *testing.T) {
	root, err := testmodels.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-export", "-deps", "-f", "{{if .CgoFiles}}{{.ImportPath}}\t{{.Export}}{{end}}", "./asr", "./llm", "./audio/...", ".")
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	defs := map[string]map[string]string{} // symbol -> origin -> nm type
	add := func(origin, archive string) {
		nm := exec.Command("nm", "-g", "--defined-only", archive)
		var stdout bytes.Buffer
		nm.Stdout = &stdout // members that are not ELF (Go's own objects) make nm complain on stderr
		_ = nm.Run()
		sc := bufio.NewScanner(&stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 {
				continue
			}
			if defs[f[2]] == nil {
				defs[f[2]] = map[string]string{}
			}
			defs[f[2]][origin] = f[1]
		}
	}
	packages := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, archive, ok := strings.Cut(line, "\t")
		if !ok || archive == "" {
			continue
		}
		add(originOf(path), archive)
		packages++
	}
	libs, _ := filepath.Glob(filepath.Join(libDir(t, "libwhisper.a"), "*.a"))
	llamaLibs, _ := filepath.Glob(filepath.Join(libDir(t, "libllama.a"), "*.a"))
	if packages < 4 || len(libs) != 4 || len(llamaLibs) < 5 {
		t.Fatalf("found %d cgo packages, %d whisper and %d llama.cpp libraries; expected malgo's and ours, 4 and at least 5", packages, len(libs), len(llamaLibs))
	}
	for _, l := range libs {
		add("whisper.cpp", l)
	}
	for _, l := range llamaLibs {
		add("llama.cpp", l)
	}

	var mangled []string
	for sym, origins := range defs {
		if len(origins) > 1 {
			mangled = append(mangled, sym)
		}
	}
	demangled := demangle(t, mangled)
	stdlib := regexp.MustCompile(`^((void|bool|char|int|unsigned long|long) )?(std::|__gnu_cxx::|(typeinfo|typeinfo name|vtable|guard variable) for std::|DW\.ref\.(_ZTISt|__gxx_personality_v0))`)
	allowed := 0
	for i, sym := range mangled {
		weak := true
		for _, typ := range defs[sym] {
			weak = weak && (typ == "W" || typ == "V" || typ == "u")
		}
		if weak && stdlib.MatchString(demangled[i]) {
			allowed++
			continue
		}
		// llm's glue compiles llama.cpp's own headers: their inline functions are the same
		// code in both.
		if _, ok := defs[sym]["hark/llm"]; weak && ok && len(defs[sym]) == 2 && defs[sym]["llama.cpp"] != "" {
			allowed++
			continue
		}
		t.Errorf("%s (%s) is defined by %v", demangled[i], sym, defs[sym])
	}
	t.Logf("%d symbols from %d cgo packages, 4 whisper.cpp and the llama.cpp libraries; %d shared C++ standard library instantiations and inline functions of llama.cpp's headers", len(defs), packages, allowed)
}

// originOf groups cgo packages by the project whose C code they compile.
func originOf(importPath string) string {
	switch {
	case strings.HasPrefix(importPath, "github.com/ggerganov/whisper.cpp/"):
		return "whisper.cpp Go bindings"
	}
	return importPath
}

// libDir is the folder on CGO_LDFLAGS that holds lib.
func libDir(t *testing.T, lib string) string {
	for _, f := range strings.Fields(os.Getenv("CGO_LDFLAGS")) {
		if dir, ok := strings.CutPrefix(f, "-L"); ok {
			if _, err := os.Stat(filepath.Join(dir, lib)); err == nil {
				return dir
			}
		}
	}
	t.Fatalf("CGO_LDFLAGS names no folder with %s: run the tests through make (or eval \"$(make -s env)\")", lib)
	return ""
}

func demangle(t *testing.T, syms []string) []string {
	if len(syms) == 0 {
		return nil
	}
	cmd := exec.Command("c++filt")
	cmd.Stdin = strings.NewReader(strings.Join(syms, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("c++filt: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != len(syms) {
		t.Fatalf("c++filt returned %d lines for %d symbols", len(lines), len(syms))
	}
	return lines
}
