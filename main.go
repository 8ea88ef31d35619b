// Hark is an offline voice assistant: it listens to the microphone, transcribes speech with
// whisper.cpp, answers with a local language model on llama.cpp, shows the reply in a Fyne
// window and speaks it. Nothing leaves the device.
//
// Run `hark help` for the commands. With no command, or only flags, hark opens its window.
//
// main is the only package that wires the engines (asr, llm, audio, ...) into the assistant
// (app) and its front ends (ui, the command line). It builds two executables: with the tag
// nowindow, every command but the window (make build's bin/hark: no Fyne linked, so commands
// start small), and without it the whole program (bin/hark-window), which the first becomes
// when asked for the window (gui_nowindow.go). Files only the window needs carry
// `//go:build !nowindow`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"hark/app"
	"hark/internal/localeinit"
)

// command is one `hark NAME` subcommand.
type command struct {
	name    string
	args    string // argument synopsis for help, e.g. "[--json] FILE.wav"
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands in the order `hark help` shows them.
func commands() []command {
	return []command{
		{"version", "", "print Hark's version, the engines' versions, build flags and CPU features", runVersion},
		{"devices", "[--json]", "list audio capture and playback devices", runDevices},
		{"transcribe", "[--model NAME|PATH] [--lang CODE] [--json] [--live] [options] FILE", "transcribe a sound file (WAV, FLAC or MP3) with whisper.cpp", runTranscribe},
		{"dictate", dictateArgs, "transcribe the microphone until Ctrl-C, cut at pauses, into text or subtitles", runDictate},
		{"note", noteArgs, "turn a transcript into a structured note (a SOAP clinic visit, meeting minutes, a shift handover) with the language model", runNote},
		{"record", "[--device NAME] [--seconds N] OUT.wav", "record the microphone into a WAV file", runRecord},
		{"vad", "[--vad-model NAME|PATH] [--energy] [--json] FILE", "print the speech segments (start and end in ms) of a sound file (WAV, FLAC or MP3)", runVAD},
		{"licenses", "", "print the licences of the software Hark ships", runLicenses},
		{"listen", "[--asr-model FILE] [--llm-model FILE] [--vad-model FILE] [--device NAME] [--turns N]", "run the assistant hands-free without a window, printing events as JSON lines", runListen},
		{"bench", "--wav FILE [--asr-model FILE] [--llm-model FILE] [--turns N] [--json]", "time N turns from a WAV file through the pipeline: per-stage median and p90, pipeline overhead", runBench},
		{"models", "list|pull|verify|rm|path", "list, download, check and delete speech and language models", runModels},
		{"config", "show|path|check|set|unset|example|init", "show and change the configuration (~/.config/hark/config.toml)", runConfig},
		{"history", "list|show|actions|export|wipe|path", "read, export or wipe the conversation history kept on this device", runHistory},
		{"do", `[--dry-run] [--json] [--yes] [--no-model] "sentence"`, "run a command (set a timer, add a note, ...) from a sentence: Hark's sentence templates, else the language model with the tools", runDo},
		{"intents", `test [--json] "sentence"`, "show which sentence template a sentence matches, with its slots", runIntents},
		{"tools", "[--json]", "list the tools Hark can run, with their risk (safe or confirm)", runTools},
		{"home", "[--json]", "list the devices and sensors Hark can control and read, where they come from (Home Assistant, MQTT) and whether each connector is reachable", runHome},
		{"timers", "[--all] [--json]", "list the running and paused timers and alarms", runTimers},
		{"knowledge", `add|list|rm|rebuild|search "question"`, "index local documents that answers come from, and show what a question retrieves", runKnowledge},
		{"say", `[--voice V] [--lang L] [--rate WPM] [--pitch P] [--out FILE.wav] [--phonemes] [-v] "text" (or text on stdin)`, "speak text aloud, or write it to a WAV file", runSay},
		{"voices", "[--lang L] [--variants]", "list the voices Hark can speak with", runVoices},
		{"ask", `[--model PATH] [--system TEXT] [--max-tokens N] [--temp T] [--seed S] [--json] "question"`, "answer one question with the language model, streaming the reply", runAsk},
		{"chat", "[--model PATH] [--system TEXT] [--stats] [sampling flags]", "a text conversation with the language model (keeps the context between turns)", runChat},
		{"serve", serveArgs, "serve speech recognition and speech output to Home Assistant and other Wyoming clients on a TCP port", runServe},
		{"doctor", doctorArgs, "check this computer for Hark (CPU, sound, models, disk, fonts, permissions, settings) and say how to fix each problem", runDoctor},
		{"help", "[COMMAND]", "list the commands, or describe one", nil},
	}
}

// systemLanguage is the LANGUAGE the window's "system" language restores: the one Hark
// started with, or the English that localeinit chose for a C locale.
func systemLanguage() string {
	if localeinit.Patched {
		return "en"
	}
	return localeinit.Original
}

// errUsage marks an error caused by how the command was called (exit status 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (len(args[0]) > 0 && args[0][0] == '-' && args[0] != "-h" && args[0] != "--help") {
		return exitCode(runGUI(ctx, args, stderr), stderr)
	}
	name, rest := args[0], args[1:]
	if name == "help" || name == "-h" || name == "--help" {
		return exitCode(runHelp(rest, stdout), stderr)
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			return exitCode(c.run(ctx, rest, stdout, stderr), stderr)
		}
	}
	fmt.Fprintf(stderr, "hark: unknown command %q; `hark help` lists the commands\n", name)
	return 2
}

func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		printError(stderr, err)
		return 2
	case errors.Is(err, context.Canceled):
		return 130
	default:
		printError(stderr, err)
		return 1
	}
}

// printError is how every command reports the error it ends on: the error, then on its own
// line what to do about it (an [app.UserError]'s hint), if it has one.
func printError(stderr io.Writer, err error) {
	fmt.Fprintf(stderr, "hark: %v\n", err)
	if h := app.Hint(err); h != "" {
		fmt.Fprintf(stderr, "  %s\n", h)
	}
}

func runHelp(args []string, w io.Writer) error {
	if len(args) == 1 {
		for _, c := range commands() {
			if c.name == args[0] {
				fmt.Fprintf(w, "usage: hark %s %s\n\n%s\n", c.name, c.args, c.summary)
				if c.run != nil {
					fmt.Fprintf(w, "\nOptions: hark %s -h\n", c.name)
				}
				return nil
			}
		}
		return fmt.Errorf("%w: no command %q", errUsage, args[0])
	}
	fmt.Fprintln(w, "Hark, an offline voice assistant.")
	fmt.Fprintln(w, "\nusage: hark [WINDOW OPTIONS]   open the window (hark -h for its options)")
	fmt.Fprintln(w, "       hark COMMAND [ARGS]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	return nil
}

// synopsis is the argument synopsis of the command name, from commands().
func synopsis(name string) string {
	for _, c := range commands() {
		if c.name == name {
			return c.args
		}
	}
	panic("no command " + name)
}

// usage is the usage line of the command name.
func usage(name string) string { return "hark " + name + " " + synopsis(name) }

// newFlags returns the flag set of the command name, with its usage line from commands().
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	return newSubFlags(name, synopsis(name), stderr)
}

// newSubFlags returns a flag set for a command that is not in commands() (models list, the
// window's options, ...) that reports errors instead of exiting.
func newSubFlags(name, args string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: hark %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and wraps a bad flag as a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
	}
	return nil
}
