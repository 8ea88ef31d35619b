package home

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// ---- "Which one?" answered with just a name ----

// request is a command or question that was asked back about, to be completed on the entity
// the answer names.
type request struct {
	cmd    Command // Op 0: a question
	expect string  // the question's state asked about ("is it open?")
}

// pending is the last "Which one?" the hub asked, with the request it completes.
type pending struct {
	request
	choices []target
	until   time.Time
}

// askedWhich remembers an ambiguous request so that the answer "the kitchen one" completes it.
// A name that fitted nothing forgets any earlier question: that one was not answered.
func (h *Hub) askedWhich(o Outcome, r Resolution, req request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.which = nil
	if o.Status == Ambiguous {
		h.which = &pending{request: req, choices: r.targets, until: h.o.Now().Add(h.o.AskFor)}
	}
}

// Forget drops the "Which one?" waiting for an answer: the person said something else. The
// action layer calls it for every sentence that is not such an answer.
func (h *Hub) Forget() {
	h.mu.Lock()
	h.which = nil
	h.mu.Unlock()
}

// Asking reports whether a "Which one?" is waiting for an answer.
func (h *Hub) Asking() bool { return h.current() != nil }

func (h *Hub) current() *pending {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.which != nil && !h.o.Now().Before(h.which.until) {
		h.which = nil
	}
	return h.which
}

// chosen are the pending choices an answer names: none when nothing is asked, or the answer
// names none of them, or all of them (that answers nothing).
func (h *Hub) chosen(answer string) (*pending, []target) {
	p := h.current()
	if p == nil {
		return nil, nil
	}
	ts := pick(p.choices, answer)
	if len(ts) == len(p.choices) && len(ts) > 1 {
		return p, nil
	}
	return p, ts
}

// ChoiceResolver is an intent resolver that takes only an answer naming one or some of the
// pending choices (package intent's dynamic list "choice"): no "Which one?" waiting, no match.
func (h *Hub) ChoiceResolver() func(lang, text string) (any, bool) {
	return func(_, text string) (any, bool) {
		if _, ts := h.chosen(text); len(ts) == 0 {
			return nil, false
		}
		return strings.TrimSpace(text), true
	}
}

// Choose completes the pending request on the entity the answer names, and forgets it. An
// answer that names some of the choices ("the kitchen one" of four lights, two of them in the
// kitchen) asks again among those. With nothing pending (it lapsed) or nothing named, it says
// it does not know the name.
func (h *Hub) Choose(ctx context.Context, answer string) Outcome {
	ctx, cancel := context.WithTimeout(ctx, h.o.Timeout)
	defer cancel()
	p, ts := h.chosen(answer)
	o := Outcome{Said: answer, Command: p.cmdOrZero(), Expect: p.expectOrZero()}
	switch {
	case len(ts) == 0:
		o.Status = NotFound
		return o
	case len(ts) > 1:
		o.Status = Ambiguous
		r := choices(ts)
		o.Entities = r.Entities
		h.askedWhich(o, r, p.request)
		return o
	}
	h.Forget()
	o.Entities = []Entity{ts[0].Entity}
	if p.cmd.Op == 0 {
		return h.read(ctx, o, ts)
	}
	return h.do(ctx, o, ts)
}

func (p *pending) cmdOrZero() Command {
	if p == nil {
		return Command{}
	}
	return p.cmd
}

func (p *pending) expectOrZero() string {
	if p == nil {
		return ""
	}
	return p.expect
}

// pendingCommand is the command the answer completes and the entity it names, for the
// confirmation question and the risk; false unless it names one.
func (h *Hub) pendingCommand(answer string) (Command, []Entity, bool) {
	p, ts := h.chosen(answer)
	if len(ts) != 1 {
		return Command{}, nil, false
	}
	return p.cmd, []Entity{ts[0].Entity}, true
}

// answerFillers are the words around a name in an answer: "the kitchen one", "厨房的那个".
var answerFillers = []string{"那一个", "那个", "这个", "那盏", "这盏", "那台", "这台", "一个", "的", "吧", "啊"}

// pick finds the choices an answer names: by the name matching ("kitchen light", an area, an
// alias, a small misspelling), else by the answer being part of one choice's name or area
// ("kitchen" for the Kitchen Light), else by its place in the question ("the second one").
func pick(choices []target, answer string) []target {
	q, _ := normName(answer)
	var words []string
	for _, w := range strings.Fields(q) {
		if w != "one" && w != "i" && w != "mean" && w != "meant" {
			words = append(words, w)
		}
	}
	q = strings.TrimPrefix(strings.TrimPrefix(strings.Join(words, " "), "是"), "要")
	if i, ok := ordinal(q, len(choices)); ok {
		return choices[i : i+1]
	}
	for _, f := range answerFillers {
		q = strings.TrimSuffix(q, f)
	}
	if q == "" {
		return nil
	}
	if r := resolve(choices, q, Want{}); r.Found == FoundOne && len(r.targets) == 1 {
		return r.targets
	}
	sq := strings.ReplaceAll(q, " ", "")
	var out []target
	for _, t := range choices {
		in := false
		for _, a := range t.areas {
			in = in || strings.Contains(strings.ReplaceAll(a, " ", ""), sq)
		}
		for _, p := range t.phrases {
			in = in || (p.derived == 0 && strings.Contains(p.squeezed, sq))
		}
		if in {
			out = append(out, t)
		}
	}
	return out
}

// ordinal reads "first", "second", "last", "第一个", "第2个" as a place among n choices.
func ordinal(q string, n int) (int, bool) {
	words := map[string]int{"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3}
	i, ok := words[q]
	switch {
	case q == "last" || q == "最后" || q == "最后1个" || q == "最后一个":
		i, ok = n-1, true
	case strings.HasPrefix(q, "第"):
		s := strings.TrimSuffix(strings.TrimPrefix(q, "第"), "个")
		s = strings.TrimSuffix(s, "盏")
		zh := map[string]int{"一": 1, "二": 2, "三": 3, "四": 4}
		if v, isZh := zh[s]; isZh {
			i, ok = v-1, true
		} else if v, err := strconv.Atoi(s); err == nil {
			i, ok = v-1, true
		}
	}
	if !ok || i < 0 || i >= n {
		return 0, false
	}
	return i, true
}
