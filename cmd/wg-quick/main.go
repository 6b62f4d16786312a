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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
