package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
	"github.com/wgtools/wgtools/internal/show"
)

const showUsage = "Usage: %s %s { <interface> | all | interfaces } [public-key | private-key | listen-port | fwmark | peers | preshared-keys | endpoints | allowed-ips | latest-handshakes | transfer | persistent-keepalive | dump]\n"

// showOptions reads WG_COLOR_MODE and WG_HIDE_KEYS as wg does: exact,
// case-sensitive values; colour by default only on a terminal.
func (e *env) showOptions() show.Options {
	opts := show.Options{HideKeys: os.Getenv("WG_HIDE_KEYS") != "never", Now: time.Now()}
	switch os.Getenv("WG_COLOR_MODE") {
	case "always":
		opts.Color = true
	case "never":
	default:
		if f, ok := stdoutFile(e.stdout); ok {
			opts.Color = isTerminal(f)
		}
	}
	return opts
}

// runShow follows wg's show_main (plus our `json` field, which prints one
// document for all the interfaces shown): `all` (or nothing) walks every
// interface, printing per-interface errors and going on; the exit status is
// 1 only when there were interfaces and none could be printed, or when a
// field name is invalid.
func runShow(_ context.Context, e *env, _ string, args []string) error {
	usage := func() error {
		fmt.Fprintf(e.stderr, showUsage, e.prog, "show")
		return errFailed
	}
	if len(args) > 2 {
		return usage()
	}
	switch {
	case len(args) == 0 || args[0] == "all":
		names, err := e.names()
		if err != nil {
			return err
		}
		failed := len(names) > 0
		var collected []*wgtypes.Device
		for i, name := range names {
			d, err := e.client()
			var dev *wgtypes.Device
			if err == nil {
				dev, err = d.Get(name)
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "Unable to access interface %s: %s\n", name, device.Strerror(err))
				continue
			}
			if len(args) == 2 && args[1] == "json" {
				collected = append(collected, dev)
			} else if len(args) == 2 {
				if err := e.field(dev, args[1], true); err != nil {
					return err
				}
			} else {
				if err := show.Pretty(e.stdout, dev, e.showOptions()); err != nil {
					return err
				}
				if i < len(names)-1 {
					fmt.Fprintln(e.stdout)
				}
			}
			failed = false
		}
		if len(args) == 2 && args[1] == "json" {
			if err := show.JSON(e.stdout, collected, e.showOptions()); err != nil {
				return err
			}
		}
		if failed {
			return errFailed
		}
		return nil
	case args[0] == "interfaces":
		if len(args) > 1 {
			return usage()
		}
		names, err := e.names()
		if err != nil {
			return err
		}
		return show.Interfaces(e.stdout, names)
	case len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help"):
		fmt.Fprintf(e.stderr, showUsage, e.prog, "show")
		return nil
	}
	dev, err := e.get(args[0])
	if err != nil {
		return err
	}
	if len(args) == 2 && args[1] == "json" {
		return show.JSON(e.stdout, []*wgtypes.Device{dev}, e.showOptions())
	}
	if len(args) == 2 {
		return e.field(dev, args[1], false)
	}
	return show.Pretty(e.stdout, dev, e.showOptions())
}

func (e *env) field(d *wgtypes.Device, field string, withName bool) error {
	err := show.Field(e.stdout, d, field, withName)
	if errors.Is(err, show.ErrInvalidField) {
		fmt.Fprintf(e.stderr, "Invalid parameter: %s\n", config.Quote(field))
		fmt.Fprintf(e.stderr, showUsage, e.prog, "show")
		return errFailed
	}
	return err
}

func (e *env) names() ([]string, error) {
	c, err := e.client()
	var names []string
	if err == nil {
		names, err = c.Names()
	}
	if err != nil {
		return nil, fmt.Errorf("Unable to list interfaces: %s", device.Strerror(err))
	}
	return names, nil
}
