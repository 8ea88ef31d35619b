package main

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"sort"
)

// licenseFiles are Hark's licence and the notices of what it compiles in (whisper.cpp's MIT
// notice among them), shipped inside the binary so they travel with it.
//
//go:embed LICENSE LICENSES/*.txt
var licenseFiles embed.FS

func runLicenses(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlags("licenses", stderr)
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	names, err := fs.Glob(licenseFiles, "LICENSES/*.txt")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, n := range append([]string{"LICENSE"}, names...) {
		b, err := licenseFiles.ReadFile(n)
		if err != nil {
			return err
		}
		if n == "LICENSE" {
			fmt.Fprintln(stdout, "Hark")
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%s\n%s\n", b, "--------------------------------------------------------------------------------")
	}
	return nil
}
