package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"hark/llm"
)

func runChat(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return chatREPL(ctx, args, os.Stdin, stdout, stderr)
}

// chatREPL is `hark chat`: a text conversation that keeps its context (and KV cache) between
// turns. Lines starting with / are commands; Ctrl-C stops a reply (and the chat), Ctrl-D ends it.
func chatREPL(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("chat", stderr)
	var f llmFlags
	f.register(fs)
	stats := fs.Bool("stats", false, "after each reply, print token counts (evaluated vs reused) and speed to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := f.resolve(stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: chat takes no arguments (type your messages after it starts)", errUsage)
	}
	g, err := f.genOptions()
	if err != nil {
		return err
	}
	m, _, err := f.load()
	if err != nil {
		return err
	}
	defer m.Close()
	chat, err := m.NewChat(f.cfg.Assistant.SystemPrompt)
	if err != nil {
		return err
	}
	info := m.Info()
	fmt.Fprintf(stderr, "%s (%s, %s, context %d tokens, %s format). /reset starts over, /stats toggles statistics, /exit or Ctrl-D quits.\n",
		info.Path, info.Description, info.Quantization, info.ContextSize, info.TemplateFamily)
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	for {
		fmt.Fprint(stdout, "> ")
		if !in.Scan() {
			fmt.Fprintln(stdout)
			return in.Err()
		}
		line := strings.TrimSpace(in.Text())
		switch line {
		case "":
			continue
		case "/exit", "/quit":
			return nil
		case "/reset":
			chat.Reset()
			fmt.Fprintln(stderr, "(new conversation)")
			continue
		case "/stats":
			*stats = !*stats
			continue
		}
		reply, err := chat.Send(ctx, line, g, func(piece string) error {
			_, err := io.WriteString(stdout, piece)
			return err
		})
		if reply.Interrupted {
			fmt.Fprint(stdout, " [interrupted]")
		}
		fmt.Fprintln(stdout)
		if *stats {
			s := reply.Stats
			fmt.Fprintf(stderr, "(%d prompt tokens: %d evaluated in %.0f ms, %d reused; %d generated at %.1f tokens/s",
				s.PromptTokens, s.EvaluatedTokens, ms(s.PromptEval), s.ReusedTokens, s.GeneratedTokens, s.GenerationTokensPerSecond())
			if s.DroppedTurns > 0 {
				fmt.Fprintf(stderr, "; %d old turns dropped", s.DroppedTurns)
			}
			fmt.Fprintln(stderr, ")")
		}
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return err
		case errors.Is(err, llm.ErrBadGrammar), errors.Is(err, llm.ErrBadOptions):
			return err
		default:
			fmt.Fprintf(stderr, "hark: %v\n", err) // e.g. a message too long for the context: keep chatting
		}
	}
}
