package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no state", nil, 2},
		{"unknown flag", []string{"-bogus"}, 2},
		{"extra argument", []string{"-state", "x.json", "extra"}, 2},
		{"bad task address", []string{"-state", "../../testdata/state/bed.json", "-task-addresses", "10.0.0.1"}, 2},
		{"non-loopback listen", []string{"-state", "../../testdata/state/bed.json", "-listen", "0.0.0.0:0"}, 1},
		{"missing state file", []string{"-state", "nope.json"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			if got := run(context.Background(), tt.args, io.Discard, &stderr); got != tt.want {
				t.Errorf("run(%q) = %d, want %d; stderr %q", tt.args, got, tt.want, stderr.String())
			}
		})
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-state", "../../testdata/state/bed.json"}, pw, io.Discard)
		pw.Close()
	}()
	url, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url = strings.TrimSpace(url)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line = %q, want http://127.0.0.1:PORT", url)
	}
	go io.Copy(io.Discard, pr)
	resp, err := http.Get(url + "/_emulator/calls")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /_emulator/calls = %d", resp.StatusCode)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}
