package main

import (
	"context"
	"fmt"
	"io"

	"github.com/wgtools/wgtools/internal/keys"
)

// runPubkey reads a private key from standard input as wg does: exactly 44
// bytes, then only NULs and white space until EOF.
func runPubkey(_ context.Context, e *env, _ string, args []string) error {
	if len(args) != 0 {
		fmt.Fprintf(e.stderr, "Usage: %s pubkey\n", e.prog)
		return errFailed
	}
	priv, err := keys.ReadPubkeyInput(e.stdin)
	if err != nil {
		return fmt.Errorf("%s: %w", e.prog, err)
	}
	pub := keys.Public(priv)
	keys.Wipe(&priv)
	_, err = io.WriteString(e.stdout, keys.Encode(pub)+"\n")
	return err
}
