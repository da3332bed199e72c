package main

import (
	"strings"
	"testing"
)

func TestShorten(t *testing.T) {
	long := strings.Repeat("x", 100000)
	for _, tt := range []struct {
		name, msg string
		maxLen    int
		keep      []string
	}{
		{"short message unchanged", `task definition "web" not found`, 100, []string{`"web"`}},
		{"long quoted value", `task definition "` + long + `" not found in region us-east-1`, 200,
			[]string{`task definition "xxx`, `xxx" (100000 bytes) not found in region us-east-1`}},
		{"long unquoted line", "cluster " + long + " end", maxMessage + 10, []string{"cluster xxx", "xxx end"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := shorten(tt.msg)
			if len(got) > tt.maxLen {
				t.Errorf("len %d, want at most %d", len(got), tt.maxLen)
			}
			for _, k := range tt.keep {
				if !strings.Contains(got, k) {
					t.Errorf("%.300q does not contain %q", got, k)
				}
			}
		})
	}
}
