package main

import (
	"context"
	"errors"

	"hark/app"
	"hark/audio"
)

// Interim: the microphone, voice activity detection and WAV reading arrive with the audio
// package (audio/device.Capture, audio.Endpointer, audio.ReadWAV); until then the assistant
// takes typed questions only. This file is the one to swap.

var errNoCapture = &app.UserError{Msg: "This build cannot capture audio yet",
	Hint: "Type your question; speech input arrives with the audio package."}

func openMicrophone(name string) func(context.Context) (app.Source, error) {
	return func(context.Context) (app.Source, error) { return nil, errNoCapture }
}

func (s *setup) loadSegmenter() func(context.Context) (app.Segmenter, error) {
	return func(context.Context) (app.Segmenter, error) { return nil, errNoCapture }
}

func readWAV(path string) (audio.PCM, error) {
	return audio.PCM{}, errors.New("reading WAV files arrives with the audio package")
}

// captureDevices lists the microphones' names for the settings dialog.
func captureDevices() ([]string, error) { return nil, nil }
