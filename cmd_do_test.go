package main

import (
	"encoding/json"
	"strings"
	"testing"

	"hark/internal/testmodels"
)

// TestDoCommands runs the action commands in order on fresh settings and data, as a person
// would at a terminal.
func TestDoCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("XDG_DATA_HOME", dir)
	t.Setenv("HARK_CONFIG", "")
	steps := []struct {
		name string
		step cliStep
	}{
		{"a sum", cliStep{[]string{"do", "what is 12 times 7"}, 0, []string{"That's 84."}, nil}},
		{"a timer", cliStep{[]string{"do", "set a pasta timer for 10 minutes"}, 0, []string{"Timer set for 10 minutes."}, []string{"hark timers"}}},
		{"timers lists it", cliStep{[]string{"timers"}, 0, []string{"running", "pasta timer", "left"}, nil}},
		{"a note", cliStep{[]string{"do", "remind me to buy milk"}, 0, []string{"Noted: buy milk."}, nil}},
		{"dry run of a confirm tool", cliStep{[]string{"do", "--dry-run", "clear my notes"}, 0, []string{"would run note_clear {} (confirm)", "Delete all 1 note?"}, nil}},
		{"the note is still there", cliStep{[]string{"do", "read my notes"}, 0, []string{"You have 1 note: buy milk."}, nil}},
		{"confirmed with --yes", cliStep{[]string{"do", "--yes", "clear my notes"}, 0, []string{"Deleted 1 note."}, nil}},
		{"json", cliStep{[]string{"do", "--json", "convert 5 miles to kilometres"}, 0, []string{`"tool": "convert_units"`, `"ran": true`, `"say": "5 miles is 8.047 kilometres."`}, nil}},
		{"Chinese, dry run", cliStep{[]string{"do", "设置一个五分钟的计时器", "--dry-run", "--json"}, 0, []string{`"tool": "timer_start"`, `"language": "zh"`, `"minutes": 5`, `"ran": false`}, nil}},
		{"Chinese half an hour", cliStep{[]string{"intents", "test", "半小时后提醒我"}, 0, []string{"intent:   timer_start", "minutes = 30"}, nil}},
		{"Chinese sum, answered in Chinese", cliStep{[]string{"do", "十二乘以七等于多少"}, 0, []string{"等于84。"}, nil}},
		{"Chinese timer", cliStep{[]string{"do", "定一个十五分钟的煮面计时器"}, 0, []string{"好的，十五分钟的计时器开始了。"}, nil}},
		{"Chinese status", cliStep{[]string{"do", "煮面计时器还有多久"}, 0, []string{"煮面计时器还剩十"}, nil}},
		{"Chinese cancel", cliStep{[]string{"do", "把煮面计时器取消"}, 0, []string{"已取消煮面计时器。"}, nil}},
		{"no template, no model", cliStep{[]string{"do", "--no-model", "tell me a joke"}, 1, nil, []string{"I can't do that yet"}}},
		{"no template, dry run", cliStep{[]string{"do", "--dry-run", "tell me a joke"}, 0, []string{"the language model would answer"}, nil}},
		{"no sentence", cliStep{[]string{"do"}, 2, nil, []string{"do needs a sentence"}}},
		{"intents test", cliStep{[]string{"intents", "test", "wake me up at 7:30 am"}, 0, []string{"intent:   alarm_set", "hour = 7", "minute = 30", "period = am"}, nil}},
		{"intents test, no match", cliStep{[]string{"intents", "test", "why is the sky blue"}, 0, []string{"no match"}, nil}},
		{"tools", cliStep{[]string{"tools"}, 0, []string{"timer_start", "note_clear             confirm"}, nil}},
		{"cancel", cliStep{[]string{"do", "cancel the pasta timer"}, 0, []string{"Cancelled the pasta timer."}, nil}},
		{"no timers left", cliStep{[]string{"timers"}, 0, []string{"No timers."}, nil}},
		{"the audit trail", cliStep{[]string{"history", "actions"}, 0, []string{"timer_start", "note_clear {} (intent, confirmed", "calculate"}, nil}},
		{"wipe removes it", cliStep{[]string{"history", "wipe", "--yes"}, 0, nil, nil}},
		{"nothing left", cliStep{[]string{"history", "actions"}, 0, []string{"No actions recorded."}, nil}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) { s.step.check(t) })
	}
}

// TestDoFallsBackToTheModel: a sentence no template matches is answered by the language model
// (a random-weight one here), through the assistant's loop with the tools offered, and the turn
// is kept in the history; --no-model refuses instead.
func TestDoFallsBackToTheModel(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("XDG_DATA_HOME", dir)
	t.Setenv("HARK_CONFIG", "")
	model := testmodels.Llama(t, testmodels.HermesToolsLlama())
	// One short tool and a short system prompt: the random model's byte-level tokens make
	// every character a token, and its context holds 2,048.
	set := []string{"--set", "models.llm=" + model, "--set", "assistant.max_tokens=16", "--set", "actions.tools=clock_time", "--set", "assistant.system_prompt=Be brief."}
	out := cliStep{append(append([]string{"do", "--json"}, set...), "tell me a joke"), 0, []string{`"kind": "none"`, `"model": {`, `"reply": "`}, nil}.check(t)
	var doc struct{ Model *doModelResult }
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Model == nil || strings.TrimSpace(doc.Model.Reply) == "" {
		t.Fatalf("hark do --json: %v; %s", err, out)
	}
	cliStep{[]string{"history", "list"}, 0, []string{"tell me a joke"}, nil}.check(t)
	cliStep{append(append([]string{"do", "--no-model"}, set...), "tell me a joke"), 1, nil, []string{"I can't do that yet"}}.check(t)
}
