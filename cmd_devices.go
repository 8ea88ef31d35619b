package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"hark/audio/device"
)

func runDevices(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("devices", stderr)
	asJSON := fs.Bool("json", false, "print a JSON list of {\"kind\", \"name\", \"id\", \"default\"} objects")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	devs, err := device.List()
	if err != nil {
		return err
	}
	if *asJSON {
		type entry struct {
			Kind    string `json:"kind"`
			Name    string `json:"name"`
			ID      string `json:"id"`
			Default bool   `json:"default"`
		}
		out := []entry{}
		for _, d := range devs {
			out = append(out, entry{d.Kind.String(), d.Name, d.ID, d.IsDefault})
		}
		return json.NewEncoder(stdout).Encode(out)
	}
	for _, k := range []device.Kind{device.KindCapture, device.KindPlayback} {
		title := "Microphones (capture):"
		if k == device.KindPlayback {
			title = "Speakers (playback):"
		}
		fmt.Fprintln(stdout, title)
		n := 0
		for _, d := range devs {
			if d.Kind != k {
				continue
			}
			n++
			def := " "
			if d.IsDefault {
				def = "*"
			}
			fmt.Fprintf(stdout, "%s %-44s %s\n", def, d.Name, d.ID)
		}
		if n == 0 {
			fmt.Fprintln(stdout, "  (none)")
		}
	}
	fmt.Fprintln(stdout, "* = default. Choose another with --device and its name, ID, or a unique part of either.")
	return nil
}
