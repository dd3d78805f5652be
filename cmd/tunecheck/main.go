// Command tunecheck evaluates a base model and its fine-tune side by side.
// main only builds the real environment and exits with cli.Main's code.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/tunecheck/tunecheck/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.OSEnv(term.IsTerminal(int(os.Stderr.Fd()))))
	stop()
	os.Exit(code)
}
