// Command ecs-emulator serves the ECS/EC2 emulator of package e2e/emulator
// on a loopback address, for benchmarks, demos and tests that run the tool
// as a separate process.
//
// Usage:
//
//	ecs-emulator -listen 127.0.0.1:0 -state e2e/testdata/state/bed.json [-task-addresses 127.0.0.20,127.0.0.21]
//
// The first line on stdout is the base URL (http://127.0.0.1:PORT) to put in
// AWS_ENDPOINT_URL. It serves until SIGINT or SIGTERM, then stops the
// containers of tasks still running. With -task-addresses, RunTask starts
// real containers on the local Docker engine (see emulator.DockerRunner).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
