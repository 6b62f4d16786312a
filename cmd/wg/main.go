// Command wg is a drop-in replacement for wireguard-tools' wg(8): the same
// subcommands, grammar, output and exit codes.
package main

import (
	"context"
	"os"
)

func main() {
	// No signal handling: as with wg, SIGINT and SIGTERM end the process
	// at once (nothing wg does needs undoing), and starting the runtime's
	// signal goroutine would cost every `wg genkey` in a loop.
	os.Exit(run(context.Background(), os.Args, os.Stdin, os.Stdout, os.Stderr))
}
