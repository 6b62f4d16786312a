package main

import (
	"context"
	"fmt"
	"io"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/keys"
)

func runGenkey(_ context.Context, e *env, name string, args []string) error {
	if len(args) != 0 {
		fmt.Fprintf(e.stderr, "Usage: %s %s\n", e.prog, name)
		return errFailed
	}
	if f, ok := stdoutFile(e.stdout); ok && keys.WorldAccessible(f) {
		io.WriteString(e.stderr, "Warning: writing to world accessible file.\nConsider setting the umask to 077 and trying again.\n")
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
	_, err = io.WriteString(e.stdout, keys.Encode(k)+"\n")
	return err
}
