// Command slipway builds, validates and deploys Flux-style GitOps
// repositories, from a terminal or as a GitHub Action.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{out: os.Stdout, err: os.Stderr, in: os.Stdin}, os.Getenv)
	stop()
	os.Exit(code)
}
