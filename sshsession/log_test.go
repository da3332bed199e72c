package sshsession

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestMessagesAndLogs(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		name          string
		flags         []Flag
		verbose       bool
		wantStderr    string // substring; "" = stderr must be empty
		wantLog       []string
		wantNoLogging bool
	}{
		{
			name:          "new host key announced",
			flags:         []Flag{{"o", "StrictHostKeyChecking=accept-new"}},
			wantStderr:    "Permanently added",
			wantNoLogging: true,
		},
		{
			name:          "-q silences it",
			flags:         []Flag{{"o", "StrictHostKeyChecking=accept-new"}, {"q", ""}},
			wantNoLogging: true,
		},
		{
			name:       "verbose logs negotiation and phases",
			flags:      []Flag{{"o", "StrictHostKeyChecking=accept-new"}},
			verbose:    true,
			wantStderr: "Permanently added",
			wantLog:    []string{"connected to 127.0.0.1", "key exchange with", "negotiated with", "session on 127.0.0.1 started", "exited with status 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, srv)
			var stderr bytes.Buffer
			var mu sync.Mutex
			var logs []string
			cfg := env.config(srv, tt.flags...)
			cfg.Stderr = &stderr
			cfg.Verbose = tt.verbose
			cfg.Logf = func(format string, args ...any) {
				mu.Lock()
				logs = append(logs, fmt.Sprintf(format, args...))
				mu.Unlock()
			}
			c := dialT(t, cfg)
			if _, err := c.Run(context.Background(), RunRequest{Command: "exit 0"}); err != nil {
				t.Fatal(err)
			}
			got := stderr.String()
			if tt.wantStderr == "" && got != "" || !strings.Contains(got, tt.wantStderr) {
				t.Errorf("stderr = %q; want %q", got, tt.wantStderr)
			}
			mu.Lock()
			all := strings.Join(logs, "\n")
			mu.Unlock()
			if tt.wantNoLogging && all != "" {
				t.Errorf("logged without Verbose/Debug/-v:\n%s", all)
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(all, w) {
					t.Errorf("log lacks %q:\n%s", w, all)
				}
			}
		})
	}
}
