package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"hark/asr"
	"hark/internal/buildinfo"
	"hark/internal/cpucheck"
	"hark/llm"
)

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	bi := buildinfo.Read()
	fmt.Fprintf(stdout, "hark %s (%s)\n", buildinfo.Version(), bi.GoVersion)
	fmt.Fprintf(stdout, "whisper.cpp %s (whisper.rn npm package; Hark's own cgo binding)\n", asr.Version())
	fmt.Fprintf(stdout, "llama.cpp %s; Hark's own cgo binding\n", llm.Version())
	fmt.Fprintf(stdout, "llama.cpp build: %s\n", llm.BuildOptions())
	fmt.Fprintf(stdout, "malgo %s\n", orUnknown(bi.Modules["github.com/gen2brain/malgo"]))
	fmt.Fprintln(stdout, windowVersion(bi.Modules["fyne.io/fyne/v2"]))
	fmt.Fprintf(stdout, "native code compiled for %s\n", cpucheck.CompiledISA())
	keys := make([]string, 0, len(bi.Settings))
	for k := range bi.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(stdout, "build %s=%s\n", k, bi.Settings[k])
	}
	fmt.Fprintf(stdout, "cpu features: %s\n", strings.Join(cpucheck.Features(), " "))
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
