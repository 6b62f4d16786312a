package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
	"github.com/wgtools/wgtools/internal/keys"
)

const setUsage = "Usage: %s %s <interface> [listen-port <port>] [fwmark <mark>] [private-key <file path>] [peer <base64 public key> [remove] [preshared-key <file path>] [endpoint <ip>:<port>] [persistent-keepalive <interval seconds>] [allowed-ips [+|-]<ip1>/<cidr1>[,[+|-]<ip2>/<cidr2>]...] ]...\n"

func runSet(ctx context.Context, e *env, _ string, args []string) error {
	if len(args) < 2 {
		fmt.Fprintf(e.stderr, setUsage, e.prog, "set")
		return errFailed
	}
	c, err := parseSet(ctx, e, args[1:])
	if err != nil {
		return err
	}
	req, err := device.WGRequest(c, device.Set)
	if err != nil {
		return modifyError(err)
	}
	return e.apply(truncateName(args[0]), req)
}

// truncateName cuts an interface name to what the kernel holds, as wg's
// set and setconf do silently.
func truncateName(name string) string {
	if len(name) > device.MaxNameLen {
		return name[:device.MaxNameLen]
	}
	return name
}

// parseSet reads wg set's keyword grammar left to right, exactly as wg
// does: device keywords only before the first `peer`, peer keywords only
// after one, every value checked (and endpoints resolved) as it is read.
// Any keyword out of place, unknown, or missing its value is reported as
// "Invalid argument: WORD".
func parseSet(ctx context.Context, e *env, args []string) (*config.Config, error) {
	c := &config.Config{}
	var peer *config.Peer
	for len(args) > 0 {
		word, hasValue := args[0], len(args) >= 2
		var value string
		if hasValue {
			value = args[1]
		}
		switch {
		case word == "listen-port" && hasValue && peer == nil:
			p, err := config.ParsePort(value, nil)
			if err != nil {
				return nil, err
			}
			c.Interface.ListenPort = &p
		case word == "fwmark" && hasValue && peer == nil:
			m, err := config.ParseFwMark(value)
			if err != nil {
				return nil, err
			}
			c.Interface.FwMark = &m
		case word == "private-key" && hasValue && peer == nil:
			k, err := readKeyFile(value)
			if err != nil {
				return nil, err
			}
			c.Interface.PrivateKey = &k
		case word == "peer" && hasValue:
			k, err := keys.Parse(value)
			if err != nil {
				return nil, fmt.Errorf("Key is not the correct length or format: %s", config.Quote(value))
			}
			c.Peers = append(c.Peers, config.Peer{PublicKey: k})
			peer = &c.Peers[len(c.Peers)-1]
		case word == "remove" && peer != nil:
			peer.Remove = true
			args = args[1:]
			continue
		case word == "endpoint" && hasValue && peer != nil:
			ep, err := config.ParseEndpoint(value, nil)
			if err != nil {
				return nil, err
			}
			tmp := &config.Config{Peers: []config.Peer{{Endpoint: ep}}}
			if err := e.resolve(ctx, tmp); err != nil {
				return nil, err
			}
			peer.Endpoint = ep
		case word == "allowed-ips" && hasValue && peer != nil:
			ips, replace, err := config.ParseAllowedIPs(deleteSpace(value), func(w string) { fmt.Fprintln(e.stderr, w) })
			if err != nil {
				return nil, err
			}
			peer.ReplaceAllowedIPs = replace
			peer.AllowedIPs = append(peer.AllowedIPs, ips...)
		case word == "persistent-keepalive" && hasValue && peer != nil:
			ka, err := config.ParseKeepalive(value)
			if err != nil {
				return nil, err
			}
			peer.PersistentKeepalive = &ka
		case word == "preshared-key" && hasValue && peer != nil:
			k, err := readKeyFile(value)
			if err != nil {
				return nil, err
			}
			peer.PresharedKey = &k
		default:
			return nil, fmt.Errorf("Invalid argument: %s", word)
		}
		args = args[2:]
	}
	return c, nil
}

// deleteSpace removes every white-space byte, as wg does to allowed-ips.
func deleteSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || (r >= '\t' && r <= '\r') {
			return -1
		}
		return r
	}, s)
}

// readKeyFile opens a key file the way wg's fopen does, so that
// process substitution and /dev/stdin work.
func readKeyFile(path string) (wgtypes.Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("fopen: %s", device.Strerror(unwrapPathErr(err)))
	}
	defer f.Close()
	return keys.ReadKeyFile(f)
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
