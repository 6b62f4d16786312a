// Command wg is a drop-in replacement for wireguard-tools' wg(8): the same
// subcommands, grammar, output and exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	// wg is short-lived and what it builds (a device of perhaps 50,000
	// peers, its text) stays live until it exits, so the collector's
	// cycles at the default GOGC find little garbage: a fifth of
	// `wg show dump` on 10,000 peers. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
