// Command wg-quick is a drop-in replacement for wireguard-tools'
// wg-quick(8) on Linux: up, down, save and strip of /etc/wireguard/IF.conf,
// done in-process over netlink, transactionally, with an embedded userspace
// WireGuard device where the kernel has none.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := context.Background(), func() {}
	// Verbs that change the system catch SIGINT and SIGTERM to finish or
	// undo what they started. strip, check and the usage text only read
	// and print: like those of wg, they keep the default dispositions, and
	// skip starting the runtime's signal goroutine, about a millisecond of
	// every `wg-quick strip` in a loop.
	if len(os.Args) < 2 || (os.Args[1] != "strip" && os.Args[1] != "check") {
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	}
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
