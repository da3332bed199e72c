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
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, relayedSignals...)
	streams := &Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(run(context.Background(), os.Args[1:], streams, sigs))
}
