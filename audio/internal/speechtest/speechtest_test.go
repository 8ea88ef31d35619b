package speechtest

import (
	"fmt"
	"testing"
	"time"
)

// recorder is a testing.TB that only notes whether Check failed.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }

func TestCheck(t *testing.T) {
	s := func(a, b float64) Segment {
		return Segment{Start: time.Duration(a * float64(time.Second)), End: time.Duration(b * float64(time.Second))}
	}
	opt := s(10.3, 11)
	opt.Optional = true
	want := []Segment{s(1, 2), s(2.3, 3), s(4, 5), opt} // 0.3 s pause: must merge; 1 s: must split
	tests := []struct {
		found []Segment
		ok    bool
	}{
		{[]Segment{s(1.05, 3.1), s(3.9, 5.1)}, true},
		{[]Segment{s(1.05, 3.1), s(3.9, 5.1), s(10.6, 10.9)}, true}, // inside the optional segment
		{[]Segment{s(1.05, 3.1), s(3.9, 5.1), s(10.3, 11)}, true},
		{[]Segment{s(1.05, 3.1)}, false},                   // speech at 4 s not found
		{[]Segment{s(1.05, 2), s(2.3, 3), s(4, 5)}, false}, // a 0.3 s pause cannot end an utterance
		{[]Segment{s(1.05, 5)}, false},                     // a 1 s pause must
		{[]Segment{s(1.3, 3), s(4, 5)}, false},             // starts 0.3 s late
		{[]Segment{s(1, 3), s(4, 5.3)}, false},             // ends 0.3 s late
		{[]Segment{s(1, 3), s(4, 5), s(7, 8)}, false},      // an utterance in silence
		{nil, false},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			r := &recorder{TB: t}
			Check(r, "test", tt.found, want, 600*time.Millisecond, 150*time.Millisecond)
			if r.failed == tt.ok {
				t.Errorf("Check(%v) failed=%v, want ok=%v", tt.found, r.failed, tt.ok)
			}
		})
	}
}
