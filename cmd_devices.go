package main

import (
	"context"
	"fmt"
	"io"

	"hark/audio/device"
)

func runDevices(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("devices", "", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	devs, err := device.List()
	if err != nil {
		return err
	}
	for _, d := range devs {
		def := " "
		if d.IsDefault {
			def = "*"
		}
		fmt.Fprintf(stdout, "%s %-8s %-40s %s\n", def, d.Kind, d.Name, d.ID)
	}
	return nil
}
