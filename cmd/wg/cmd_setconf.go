package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
)

// newSetconfCommand builds setconf, addconf and syncconf, which share the
// file handling and differ in what they send.
func newSetconfCommand(e *env, name string) *cobra.Command {
	return &cobra.Command{
		Use:                name,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSetconf(cmd.Context(), e, name, args)
		},
	}
}

func runSetconf(ctx context.Context, e *env, sub string, args []string) error {
	if len(args) != 2 {
		fmt.Fprintf(e.stderr, "Usage: %s %s <interface> <configuration filename>\n", e.prog, sub)
		return errFailed
	}
	name, file := truncateName(args[0]), args[1]
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("fopen: %s", device.Strerror(unwrapPathErr(err)))
	}
	c, err := config.ParseWG(data, config.Options{
		File: file,
		Warn: func(_ int, msg string) { fmt.Fprintln(e.stderr, msg) },
	})
	if err == nil {
		err = e.resolve(ctx, c)
	}
	if err != nil {
		// wg follows the specific message with a general one.
		if errors.Is(err, config.ErrMissingPublicKey) {
			return fmt.Errorf("%w\nInvalid configuration", err)
		}
		return fmt.Errorf("%w\nConfiguration parsing error", err)
	}
	var req device.Request
	switch sub {
	case "setconf":
		req, err = device.WGRequest(c, device.Replace)
	case "addconf":
		req, err = device.WGRequest(c, device.Set)
	case "syncconf":
		var cur *wgtypes.Device
		if len(c.Peers) > 0 {
			cli, cerr := e.client()
			if cerr == nil {
				cur, cerr = cli.Get(name)
			}
			if cerr != nil {
				return fmt.Errorf("Unable to retrieve current interface configuration: %s", device.Strerror(cerr))
			}
		} else {
			cur = &wgtypes.Device{}
		}
		req.Config, err = device.SyncConfig(c, cur)
	}
	if err != nil {
		return fmt.Errorf("Unable to modify interface: %s", device.Strerror(err))
	}
	return e.apply(name, req)
}

func newShowconfCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:                "showconf",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				fmt.Fprintf(e.stderr, "Usage: %s showconf <interface>\n", e.prog)
				return errFailed
			}
			d, err := e.get(args[0])
			if err != nil {
				return err
			}
			_, err = e.stdout.Write(config.Showconf(device.Config(d)))
			return err
		},
	}
}
