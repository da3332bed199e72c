package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/emulator"
)

// run serves until ctx is done and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ecs-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "loopback `address` to listen on")
	statePath := fs.String("state", "", "state fixture `file` (JSON)")
	taskAddrs := fs.String("task-addresses", "", "comma-separated loopback `addresses` for RunTask tasks; enables the Docker runner")
	waitPort := fs.Int("task-wait-port", 22, "`port` a Docker task must accept connections on before it is RUNNING (0 = do not wait)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *statePath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: ecs-emulator [-listen ADDR] -state FILE")
		return 2
	}
	var runner emulator.TaskRunner
	if *taskAddrs != "" {
		r, err := emulator.NewDockerRunner(strings.Split(*taskAddrs, ","))
		if err != nil {
			fmt.Fprintf(stderr, "ecs-emulator: %v\n", err)
			return 2
		}
		r.WaitPort = *waitPort
		runner = r
	}
	if err := serve(ctx, *listen, *statePath, runner, stdout); err != nil {
		fmt.Fprintf(stderr, "ecs-emulator: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, listen, statePath string, runner emulator.TaskRunner, stdout io.Writer) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q: not a loopback IP address", listen)
	}
	st, err := emulator.LoadState(statePath)
	if err != nil {
		return err
	}
	srv := emulator.New(st)
	if runner != nil {
		srv.SetRunner(runner)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = hs.Shutdown(shutdownCtx)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	// Tasks still running would leave containers behind.
	if err := srv.Close(shutdownCtx); err != nil {
		return fmt.Errorf("stop tasks: %w", err)
	}
	return nil
}
