package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hark/app"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"hark/app/config"
	"hark/llm"
	"hark/models"
)

// llmFlags are the flags `hark ask` and `hark chat` share. Model, system prompt, reply length,
// temperature, threads and context size come from the configuration (config.toml, HARK_*
// variables) and the flags override them; the other sampling settings are flags only.
type llmFlags struct {
	cf                      *config.Flags
	batch                   int
	template                string
	topP, minP, rep         float64
	topK                    int
	seed                    uint
	stops                   stringList
	grammarFile, schemaFile string
	verbose                 bool
	stderr                  io.Writer

	maxTokens int // 0: assistant.max_tokens

	setup *setup         // after resolve
	cfg   *config.Config // setup.cfg
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func (f *llmFlags) register(fs *flag.FlagSet) {
	d := llm.DefaultGenOptions()
	f.cf = modelsFlags(fs) // --config, --set, --models-dir
	f.cf.Bind("model", "models.llm")
	f.cf.Bind("system", "assistant.system_prompt")
	// Not bound to assistant.max_tokens, whose floor suits spoken replies: one token is a
	// valid answer to a yes/no or classification question.
	fs.Func("max-tokens", "longest reply in tokens, any positive count (default: assistant.max_tokens)", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("must be a positive whole number")
		}
		f.maxTokens = n
		return nil
	})
	f.cf.Bind("temp", "assistant.temperature")
	f.cf.Bind("threads", "performance.threads")
	f.cf.Bind("ctx", "performance.context_size")
	fs.IntVar(&f.batch, "batch", 0, "prompt batch size, 1-512 (0: 512)")
	fs.StringVar(&f.template, "template", "", "chat template override: a name (chatml, llama2, llama3, gemma, phi3, ...) or \"plain\"")
	fs.IntVar(&f.topK, "top-k", d.TopK, "top-k sampling (0: off)")
	fs.Float64Var(&f.topP, "top-p", round3(d.TopP), "top-p sampling (1: off)")
	fs.Float64Var(&f.minP, "min-p", round3(d.MinP), "min-p sampling (0: off)")
	fs.Float64Var(&f.rep, "repeat-penalty", round3(d.RepeatPenalty), "repeat penalty (1: off)")
	fs.UintVar(&f.seed, "seed", 0, "random seed (0: random; the one used is in --json's output)")
	fs.Var(&f.stops, "stop", "stop sequence (repeatable)")
	fs.StringVar(&f.grammarFile, "grammar", "", "GBNF grammar file the reply must follow")
	fs.StringVar(&f.schemaFile, "schema", "", "JSON schema file the reply must follow")
	fs.BoolVar(&f.verbose, "verbose", false, "show llama.cpp's log (debug lines on stderr)")
}

// resolve loads the configuration with the flags applied (see openSetup).
func (f *llmFlags) resolve(stderr io.Writer) error {
	f.stderr = stderr
	s, err := openSetup(f.cf, stderr, "hark", false)
	if err != nil {
		return err
	}
	f.setup, f.cfg = s, s.cfg
	return nil
}

// modelPath is the language model in use: --model (a manifest name or a .gguf path), else
// models.llm from the configuration, else the device class's default from the manifest.
func (f *llmFlags) modelPath() (string, error) {
	sel := f.setup.selection(models.LLM)
	if sel.Err != nil {
		return "", fmt.Errorf("no language model: %w (choose one with --model PATH or models.llm)", sel.Err)
	}
	return sel.Path, nil
}

func (f *llmFlags) genOptions() (llm.GenOptions, error) {
	g := llm.GenOptions{
		MaxTokens: cmp.Or(f.maxTokens, f.cfg.Assistant.MaxTokens), Temperature: float32(f.cfg.Assistant.Temperature), TopK: f.topK,
		TopP: float32(f.topP), MinP: float32(f.minP), RepeatPenalty: float32(f.rep), Seed: uint32(f.seed), Stop: f.stops,
	}
	read := func(path string) (string, error) {
		if path == "" {
			return "", nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%w: %v", errUsage, err)
		}
		return string(b), nil
	}
	var err error
	if g.Grammar, err = read(f.grammarFile); err != nil {
		return g, err
	}
	g.JSONSchema, err = read(f.schemaFile)
	return g, err
}

// load opens the model and reports how long that took.
func (f *llmFlags) load() (*llm.Model, time.Duration, error) {
	path, err := f.modelPath()
	if err != nil {
		return nil, 0, err
	}
	setVerbose(f.verbose, f.stderr, "hark")
	t0 := time.Now()
	m, err := llm.Load(path, llm.Options{
		ContextSize: f.cfg.Performance.ContextSize, Threads: f.setup.threads(),
		BatchSize: f.batch, ChatTemplate: f.template,
	})
	return m, time.Since(t0), err
}

func runAsk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ask", stderr)
	var f llmFlags
	f.register(fs)
	asJSON := fs.Bool("json", false, "print the reply and statistics as one JSON object instead of streaming text")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := f.resolve(stderr); err != nil {
		return err
	}
	question := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if question == "-" {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		question = strings.TrimSpace(string(b))
	}
	if question == "" {
		return fmt.Errorf("%w: ask: no question (hark ask \"question\", or - to read it from stdin)", errUsage)
	}
	g, err := f.genOptions()
	if err != nil {
		return err
	}
	kn, prompt, err := askKnowledge(ctx, f.cfg, question, stderr)
	if err != nil {
		return err
	}
	if kn != nil && kn.DontKnow {
		if *asJSON {
			return json.NewEncoder(stdout).Encode(askJSON{Reply: app.DontKnow, Stop: "dont_know", Knowledge: kn})
		}
		_, err := fmt.Fprintln(stdout, app.DontKnow)
		return err
	}
	m, loadTime, err := f.load()
	if err != nil {
		return err
	}
	defer m.Close()
	chat, err := m.NewChat(f.cfg.Assistant.SystemPrompt)
	if err != nil {
		return err
	}
	emit := func(piece string) error {
		_, err := io.WriteString(stdout, piece)
		return err
	}
	if *asJSON {
		emit = nil
	}
	reply, err := chat.Send(ctx, prompt, g, emit)
	if *asJSON {
		if jerr := writeAskJSON(stdout, m.Info(), loadTime, reply, err, kn); jerr != nil {
			return jerr
		}
	} else if reply.Text != "" || err == nil {
		fmt.Fprintln(stdout)
	}
	return err
}

// askJSON is `hark ask --json`'s output.
type askJSON struct {
	Reply       string    `json:"reply"`
	Stop        string    `json:"stop"`
	Interrupted bool      `json:"interrupted,omitempty"`
	Error       string    `json:"error,omitempty"`
	Stats       statsJSON `json:"stats"`
	Model       modelJSON `json:"model"`
	// Knowledge is what the documents gave (absent without a knowledge index).
	Knowledge *knowledgeJSON `json:"knowledge,omitempty"`
}

type statsJSON struct {
	PromptTokens    int     `json:"prompt_tokens"`
	ReusedTokens    int     `json:"reused_tokens"`
	EvaluatedTokens int     `json:"evaluated_tokens"`
	GeneratedTokens int     `json:"generated_tokens"`
	PromptEvalMs    float64 `json:"prompt_eval_ms"`
	GenerationMs    float64 `json:"generation_ms"`
	PromptTokensPS  float64 `json:"prompt_tokens_per_s"`
	GenerationTokPS float64 `json:"generation_tokens_per_s"`
	DroppedTurns    int     `json:"dropped_turns,omitempty"`
	Seed            uint32  `json:"seed"`
	LoadMs          float64 `json:"load_ms"`
}

type modelJSON struct {
	Path         string `json:"path"`
	Description  string `json:"description"`
	Architecture string `json:"architecture"`
	Name         string `json:"name,omitempty"`
	Parameters   uint64 `json:"parameters"`
	Quantization string `json:"quantization"`
	Template     string `json:"template"`
	ContextSize  int    `json:"context_size"`
	MemoryBytes  uint64 `json:"memory_bytes"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func writeAskJSON(w io.Writer, info llm.Info, load time.Duration, r llm.Reply, err error, kn *knowledgeJSON) error {
	s := r.Stats
	out := askJSON{
		Reply: r.Text, Stop: string(r.Stop), Interrupted: r.Interrupted, Knowledge: kn,
		Stats: statsJSON{
			PromptTokens: s.PromptTokens, ReusedTokens: s.ReusedTokens, EvaluatedTokens: s.EvaluatedTokens,
			GeneratedTokens: s.GeneratedTokens, PromptEvalMs: ms(s.PromptEval), GenerationMs: ms(s.Generation),
			PromptTokensPS: round2(s.PromptTokensPerSecond()), GenerationTokPS: round2(s.GenerationTokensPerSecond()),
			DroppedTurns: s.DroppedTurns, Seed: s.Seed, LoadMs: ms(load),
		},
		Model: modelJSON{
			Path: info.Path, Description: info.Description, Architecture: info.Architecture, Name: info.Name,
			Parameters: info.Parameters, Quantization: info.Quantization, Template: info.TemplateFamily,
			ContextSize: info.ContextSize, MemoryBytes: info.MemoryBytes(),
		},
	}
	if err != nil {
		out.Error = err.Error()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// round3 shows a float32 default as the decimal it was written as (0.05, not 0.0500000007).
func round3(f float32) float64 { return math.Round(float64(f)*1000) / 1000 }

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
