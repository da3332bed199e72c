// Command ssh-ecs-run-task runs a command in a fresh container on an AWS ECS
// cluster, over an in-process SSH connection, as if you were there.
//
// main is an adapter: it builds the streams and the signal channel, calls run,
// and exits once with the status run returns.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
)

// memoryLimit is a soft limit on the Go heap: x/crypto allocates a buffer
// per SSH packet, and without it a long stream grows the heap to twice what
// it uses. Below the limit it costs nothing; GOMEMLIMIT overrides it.
const memoryLimit = 20 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, relayedSignals...)
	streams := &Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(run(context.Background(), os.Args[1:], streams, sigs))
}
