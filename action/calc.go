package action

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Calculate evaluates arithmetic written with digits and symbols or words ("12 times 7",
// "2 to the power of 10", "15 percent of 80", "square root of 81"). It is a small
// recursive-descent parser: the language model never does the sums.
func Calculate(expr string) (float64, error) {
	toks, err := calcTokens(expr)
	if err != nil {
		return 0, err
	}
	p := &calcParser{toks: toks}
	v, err := p.sum()
	if err != nil {
		return 0, err
	}
	if p.pos < len(p.toks) {
		return 0, fmt.Errorf("I did not understand %q", strings.Join(p.toks[p.pos:], " "))
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, errors.New("that has no answer (division by zero?)")
	}
	return v, nil
}

// calcWords are spoken operators, longest first.
var calcWords = []struct{ words, op string }{
	{"to the power of", "^"}, {"square root of", "sqrt"}, {"divided by", "/"}, {"multiplied by", "*"},
	{"percent of", "%of"}, {"squared", "^2"}, {"cubed", "^3"}, {"plus", "+"}, {"minus", "-"},
	{"times", "*"}, {"over", "/"}, {"x", "*"}, {"add", "+"}, {"percent", "%"},
}

func calcTokens(s string) ([]string, error) {
	s = " " + strings.ToLower(s) + " "
	for _, w := range calcWords {
		s = strings.ReplaceAll(s, " "+w.words+" ", " "+w.op+" ")
	}
	s = strings.NewReplacer("^2", " ^ 2 ", "^3", " ^ 3 ", "(", " ( ", ")", " ) ", "+", " + ", "*", " * ", "/", " / ").Replace(s)
	var out []string
	for _, f := range strings.Fields(s) {
		switch f {
		case "what", "is", "whats", "the", "of", "equals", "calculate", "compute", "=":
			continue
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, errors.New("there is nothing to calculate")
	}
	return out, nil
}

type calcParser struct {
	toks []string
	pos  int
}

func (p *calcParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *calcParser) sum() (float64, error) {
	v, err := p.product()
	for err == nil {
		op := p.peek()
		if op != "+" && op != "-" {
			break
		}
		p.pos++
		var r float64
		if r, err = p.product(); err == nil {
			if op == "+" {
				v += r
			} else {
				v -= r
			}
		}
	}
	return v, err
}

func (p *calcParser) product() (float64, error) {
	v, err := p.power()
	for err == nil {
		op := p.peek()
		if op != "*" && op != "/" && op != "%of" {
			break
		}
		p.pos++
		var r float64
		if r, err = p.power(); err == nil {
			switch op {
			case "*":
				v *= r
			case "/":
				v /= r
			default:
				v = v / 100 * r
			}
		}
	}
	return v, err
}

func (p *calcParser) power() (float64, error) {
	v, err := p.unary()
	if err == nil && p.peek() == "^" {
		p.pos++
		var r float64
		if r, err = p.power(); err == nil {
			v = math.Pow(v, r)
		}
	}
	return v, err
}

func (p *calcParser) unary() (float64, error) {
	switch p.peek() {
	case "-":
		p.pos++
		v, err := p.unary()
		return -v, err
	case "sqrt":
		p.pos++
		v, err := p.unary()
		if err == nil && v < 0 {
			return 0, errors.New("a negative number has no real square root")
		}
		return math.Sqrt(v), err
	}
	return p.atom()
}

func (p *calcParser) atom() (float64, error) {
	t := p.peek()
	if t == "" {
		return 0, errors.New("the sum ends too early")
	}
	p.pos++
	if t == "(" {
		v, err := p.sum()
		if err != nil {
			return 0, err
		}
		if p.peek() != ")" {
			return 0, errors.New("a bracket is not closed")
		}
		p.pos++
		return v, nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, fmt.Errorf("I did not understand %q", t)
	}
	if p.peek() == "%" {
		p.pos++
		v /= 100
	}
	return v, nil
}

// SayNumber writes a result for speech: at most 6 significant decimals, no trailing zeros.
func SayNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	s := strconv.FormatFloat(v, 'f', 6, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}
