package main

import (
	"context"
	"errors"
	"fmt"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
)

func runSetconf(ctx context.Context, e *env, sub string, args []string) error {
	if len(args) != 2 {
		fmt.Fprintf(e.stderr, "Usage: %s %s <interface> <configuration filename>\n", e.prog, sub)
		return errFailed
	}
	name, file := truncateName(args[0]), args[1]
	text, err := config.ReadFileString(file)
	if errors.Is(err, config.ErrTooLarge) {
		return fmt.Errorf("%s: %w", config.QuotePath(file), config.ErrTooLarge)
	} else if err != nil {
		return fmt.Errorf("fopen: %s", device.Strerror(unwrapPathErr(err)))
	}
	// syncconf needs the device's configuration as well as the file's:
	// read it while the file is parsed (for 10,000 peers each takes tens
	// of milliseconds, and there are two cores). It is only a read, and
	// its result is used only where wg would have read it, after a
	// successful parse of a file with peers.
	type current struct {
		d   *wgtypes.Device
		err error
	}
	var cur chan current
	if sub == "syncconf" && mentionsPeer(text) {
		cur = make(chan current, 1)
		cli, err := e.client()
		go func() {
			var d *wgtypes.Device
			if err == nil {
				d, err = cli.Get(name)
			}
			cur <- current{d, err}
		}()
		// The client is not shared while the read runs.
		defer func() {
			if cur != nil {
				<-cur
			}
		}()
	}
	c, err := config.ParseWGString(text, config.Options{
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
		now := &wgtypes.Device{}
		var r current
		if cur != nil {
			r, cur = <-cur, nil
		}
		if len(c.Peers) > 0 {
			if r.d == nil && r.err == nil {
				r.err = errors.New("no device read") // cannot happen: a file with peers mentions "peer"
			}
			if r.err != nil {
				return fmt.Errorf("Unable to retrieve current interface configuration: %s", device.Strerror(r.err))
			}
			now = r.d
		}
		req.Config, err = device.SyncConfig(c, now)
	}
	if err != nil {
		return modifyError(err)
	}
	return e.apply(name, req)
}

func runShowconf(_ context.Context, e *env, _ string, args []string) error {
	if len(args) != 1 {
		fmt.Fprintf(e.stderr, "Usage: %s showconf <interface>\n", e.prog)
		return errFailed
	}
	d, err := e.get(args[0])
	if err != nil {
		return err
	}
	ifc := device.Interface(d)
	return config.WriteShowconfPeers(e.stdout, &ifc, device.ConfigPeers(d))
}

// mentionsPeer reports whether data holds "peer" in any case, which every
// file with a [Peer] section does. It stops at the first one, early in any
// real file (lowering a copy of the whole file first was 4% of a syncconf
// of 2,000 peers).
func mentionsPeer(text string) bool {
	for i := 0; i+4 <= len(text); i++ {
		if text[i]|0x20 == 'p' && text[i+1]|0x20 == 'e' && text[i+2]|0x20 == 'e' && text[i+3]|0x20 == 'r' {
			return true
		}
	}
	return false
}
