package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"hark/tts"
)

func runVoices(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("voices", stderr)
	lang := fs.String("lang", "", "only voices for this language (e.g. en, en-us, de)")
	variants := fs.Bool("variants", false, "list the variants instead (add one to a voice: --voice en-us+f3)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: voices takes no arguments (got %q)", errUsage, fs.Arg(0))
	}
	e, err := tts.NewEspeak()
	if err != nil {
		return err
	}
	defer e.Close()
	voices, err := e.Voices()
	if err != nil {
		return err
	}
	var list []tts.VoiceInfo
	for _, v := range voices {
		if v.Variant == *variants && speaks(v, *lang) {
			list = append(list, v)
		}
	}
	if len(list) == 0 {
		return fmt.Errorf("no voice speaks %q; `hark voices` lists them all", *lang)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if *variants {
		fmt.Fprintln(tw, "VARIANT\tGENDER\tNAME")
	} else {
		fmt.Fprintln(tw, "VOICE\tLANGUAGES\tGENDER\tNAME")
	}
	for _, v := range list {
		gender := v.Gender
		if gender == "" {
			gender = "-"
		}
		if *variants {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", v.ID, gender, v.Name)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.ID, strings.Join(v.Languages, ","), gender, v.Name)
		}
	}
	return tw.Flush()
}

// speaks reports whether v speaks lang ("en" matches en-us and en-gb; "" matches every voice).
func speaks(v tts.VoiceInfo, lang string) bool {
	if lang == "" {
		return true
	}
	lang = strings.ToLower(strings.ReplaceAll(lang, "_", "-"))
	for _, l := range v.Languages {
		l = strings.ToLower(l)
		if l == lang || strings.HasPrefix(l, lang+"-") {
			return true
		}
	}
	return false
}
