package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
	"github.com/wgtools/wgtools/internal/dns"
	"github.com/wgtools/wgtools/internal/firewall"
	"github.com/wgtools/wgtools/internal/hooks"
	"github.com/wgtools/wgtools/internal/quick"
	"github.com/wgtools/wgtools/internal/route"
	"github.com/wgtools/wgtools/internal/sysexec"
	"github.com/wgtools/wgtools/internal/userspace"
)

// newQuickEnv wires the orchestrator to the running system.
func (e *env) newQuickEnv(iface string) (*quick.Env, func(), error) {
	if os.Geteuid() != 0 {
		return nil, nil, errors.New("must be run as root")
	}
	rt, err := route.New()
	if err != nil {
		return nil, nil, err
	}
	dev, err := device.New()
	if err != nil {
		rt.Close()
		return nil, nil, err
	}
	nft, err := firewall.NewNFT(0)
	if err != nil {
		rt.Close()
		dev.Close()
		return nil, nil, err
	}
	fw := newFirewall(nft)
	retries, err := config.ParseRetries(os.LookupEnv("WG_ENDPOINT_RESOLUTION_RETRIES"))
	if err != nil {
		rt.Close()
		dev.Close()
		return nil, nil, err
	}
	// Hooks find our own wg first, as wg-quick puts its own directory first
	// in PATH.
	hookEnv := os.Environ()
	if exe, err := os.Executable(); err == nil {
		hookEnv = append(hookEnv, "PATH="+filepath.Dir(exe)+":"+os.Getenv("PATH"))
	}
	hookEnv = append(hookEnv, "LC_ALL=C")
	q := &quick.Env{
		Router:       rt,
		Device:       dev,
		Firewall:     fw,
		DNS:          dns.New(sysexec.OS{}),
		Hooks:        &hooks.Runner{Exec: sysexec.OS{}, Iface: iface, Env: hookEnv, Stdout: e.stdout, Stderr: e.stderr},
		Userspace:    userspaceStarter(e.stdout, e.stderr),
		Resolver:     net.DefaultResolver,
		Retries:      retries,
		KernelModule: func() bool { _, err := os.Stat("/sys/module/wireguard"); return err == nil },
		StateDir:     quick.NamespaceStateDir(),
		Stderr:       e.stderr,
	}
	if os.Getenv("WG_QUICK_TIMING") != "" {
		q.Trace = func(phase string, d time.Duration) {
			fmt.Fprintf(e.stderr, "[timing] %s %.1fms\n", phase, float64(d.Microseconds())/1000)
		}
	}
	if injectFaults != nil {
		if err := injectFaults(e, q); err != nil {
			rt.Close()
			dev.Close()
			return nil, nil, err
		}
	}
	return q, func() { rt.Close(); dev.Close() }, nil
}

// injectFaults is set only in binaries built with the faultinject tag
// (fault_on.go), for the tests that make each step of up fail for real.
var injectFaults func(*env, *quick.Env) error

// newFirewall installs full-tunnel rules with nftables over netlink where
// the kernel has it, else with iptables-restore; WG_QUICK_FIREWALL=
// nftables|iptables chooses.
func newFirewall(nft *firewall.NFT) *firewall.Auto {
	return &firewall.Auto{NFT: nft, Iptables: &firewall.Iptables{Exec: sysexec.OS{}}, Force: os.Getenv("WG_QUICK_FIREWALL")}
}

// withQuick parses the file and runs fn with the orchestrator wired to
// the system; every verb that changes or reads a live interface goes
// through it.
func (e *env) withQuick(file, iface string, fn func(q *quick.Env, cfg *config.Config, warnings []string) error) error {
	cfg, warnings, err := e.parse(file)
	if err != nil {
		return err
	}
	q, done, err := e.newQuickEnv(iface)
	if err != nil {
		return err
	}
	defer done()
	q.ConfigFile = file
	return fn(q, cfg, warnings)
}

func (e *env) up(ctx context.Context, file, iface string) error {
	return e.withQuick(file, iface, func(q *quick.Env, cfg *config.Config, warnings []string) error {
		q.ConfigWarnings = warnings
		return q.Up(ctx, iface, cfg)
	})
}

func (e *env) down(ctx context.Context, file, iface string) error {
	return e.withQuick(file, iface, func(q *quick.Env, cfg *config.Config, _ []string) error {
		return q.Down(ctx, iface, cfg, file)
	})
}

func (e *env) save(ctx context.Context, file, iface string) error {
	return e.withQuick(file, iface, func(q *quick.Env, cfg *config.Config, _ []string) error {
		return q.Save(ctx, iface, cfg, file)
	})
}

// starter starts userspace devices: an external implementation named by
// WG_QUICK_USERSPACE_IMPLEMENTATION (run as `IMPL IF`, which must
// daemonise, as wg-quick runs wireguard-go), or by default our own embedded
// device, re-executing this binary as `wg-quick userspace IF`.
//
// The external implementation writes to our own stdout and stderr, as under
// the reference, and never into a pipe of ours: the daemon it leaves behind
// keeps what it inherited (wireguard-go keeps both when LOG_LEVEL is set),
// so a pipe would reach end-of-file only when the device goes away, and
// `up` would wait for that.
type starter struct {
	external       string
	stdout, stderr io.Writer
}

func userspaceStarter(stdout, stderr io.Writer) *starter {
	return &starter{external: os.Getenv("WG_QUICK_USERSPACE_IMPLEMENTATION"), stdout: stdout, stderr: stderr}
}

func (s *starter) Label(name string) string {
	if s.external != "" {
		return s.external + " " + name
	}
	return "wg-quick userspace " + name
}

func (s *starter) Start(ctx context.Context, name string) error {
	if s.external != "" {
		return sysexec.OS{}.Run(ctx, sysexec.Cmd{Name: s.external, Args: []string{name}, Stdout: s.stdout, Stderr: s.stderr})
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	_, err = userspace.Spawn(exe, []string{"userspace", "--foreground", name}, name, os.Environ(), 10*time.Second)
	return err
}
