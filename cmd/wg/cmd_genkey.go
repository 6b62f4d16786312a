package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/keys"
)

// newGenkeyCommand builds `genkey` (a clamped Curve25519 private key) and
// `genpsk` (32 random bytes), which share everything but the clamping.
func newGenkeyCommand(e *env, name string) *cobra.Command {
	return &cobra.Command{
		Use:                name,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGenkey(e, name, args)
		},
	}
}

func runGenkey(e *env, name string, args []string) error {
	if len(args) != 0 {
		fmt.Fprintf(e.stderr, "Usage: %s %s\n", e.prog, name)
		return errFailed
	}
	if f, ok := stdoutFile(e.stdout); ok && keys.WorldAccessible(f) {
		fmt.Fprint(e.stderr, "Warning: writing to world accessible file.\nConsider setting the umask to 077 and trying again.\n")
	}
	var (
		k   wgtypes.Key
		err error
	)
	if name == "genkey" {
		k, err = keys.GeneratePrivate()
	} else {
		k, err = keys.GeneratePresharedKey()
	}
	if err != nil {
		return fmt.Errorf("getrandom: %w", err)
	}
	defer keys.Wipe(&k)
	_, err = fmt.Fprintln(e.stdout, keys.Encode(k))
	return err
}
