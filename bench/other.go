//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench: the benchmarks run on the Linux e2e bed only (see docs/PERFORMANCE.md)")
	os.Exit(2)
}
