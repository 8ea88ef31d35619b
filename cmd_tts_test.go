package main

import (
	"strings"
	"testing"
)

func TestVoicesCLI(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{"lists english voices", []string{"voices", "--lang", "en"}, 0, []string{"VOICE", "gmw/en-US", "en-us", "English (America)"}, nil},
		{"lists every language", []string{"voices"}, 0, []string{"gmw/de", "roa/fr", "sit/cmn"}, nil},
		{"lists variants", []string{"voices", "--variants"}, 0, []string{"VARIANT", "+f3", "female"}, nil},
		{"unknown language", []string{"voices", "--lang", "xx"}, 1, nil, []string{`no voice speaks "xx"`}},
		{"stray argument", []string{"voices", "en"}, 2, nil, []string{"takes no arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("hark %s: exit %d, want %d (stderr %q)", strings.Join(tt.args, " "), code, tt.wantCode, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("hark %s: stdout lacks %q", strings.Join(tt.args, " "), w)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("hark %s: stderr lacks %q:\n%s", strings.Join(tt.args, " "), w, errOut)
				}
			}
			if tt.wantCode == 1 && out != "" {
				t.Errorf("hark %s: printed %q before failing", strings.Join(tt.args, " "), out)
			}
		})
	}
}
