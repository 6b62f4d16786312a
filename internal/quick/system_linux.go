package quick

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/wgtools/wgtools/internal/device"
	"github.com/wgtools/wgtools/internal/dns"
	"github.com/wgtools/wgtools/internal/firewall"
	"github.com/wgtools/wgtools/internal/hooks"
	"github.com/wgtools/wgtools/internal/route"
	"github.com/wgtools/wgtools/internal/sysexec"
	"github.com/wgtools/wgtools/internal/userspace"
)

// This file is the one place that names Linux's implementations of the
// interfaces in env.go: rtnetlink for links, routes and policy rules
// (internal/route), the WireGuard device over wgctrl (internal/device),
// nftables or iptables (internal/firewall), resolvconf or resolved
// (internal/dns) and the embedded device's TUN (internal/userspace).

var _ Router = (*route.Manager)(nil)

// NewEnv wires an Env to the running system, in the network namespace of
// the calling thread. close releases its sockets.
func NewEnv(o Options) (env *Env, close func(), err error) {
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
	e := &Env{
		Links:        rt,
		Routes:       rt,
		Policy:       rt,
		Device:       dev,
		Firewall:     newFirewall(nft, o.Firewall),
		DNS:          dns.New(sysexec.OS{}),
		Hooks:        &hooks.Runner{Exec: sysexec.OS{}, Iface: o.Iface, Env: o.HookEnv, Stdout: o.Stdout, Stderr: o.Stderr},
		Userspace:    &starter{external: o.Userspace, self: o.Self, stdout: o.Stdout, stderr: o.Stderr},
		Resolver:     net.DefaultResolver,
		Retries:      o.Retries,
		KernelModule: func() bool { _, err := os.Stat("/sys/module/wireguard"); return err == nil },
		StateDir:     NamespaceStateDir(),
		Stderr:       o.Stderr,
	}
	return e, func() { rt.Close(); dev.Close(); nft.Close() }, nil
}

// newFirewall installs full-tunnel rules with nftables over netlink where
// the kernel has it, else with iptables-restore; force ("nftables" or
// "iptables") chooses.
func newFirewall(nft *firewall.NFT, force string) *firewall.Auto {
	return &firewall.Auto{NFT: nft, Iptables: &firewall.Iptables{Exec: sysexec.OS{}}, Force: force}
}

// NewCheckEnv is the system `check` asks about: the routing tables, a DNS
// tool and, when root (asking the kernel about nf_tables needs it), a
// firewall. What cannot be asked is left nil, and check says nothing
// about it. close releases what it opened.
func NewCheckEnv(o Options) (env CheckEnv, close func()) {
	var closers []func()
	if rt, err := route.New(); err == nil {
		closers = append(closers, func() { rt.Close() })
		env.TableID = rt.TableID
	}
	d := dns.New(sysexec.OS{})
	env.HaveDNS = func() error { return d.Check([]netip.Addr{netip.IPv4Unspecified()}) }
	if os.Geteuid() == 0 {
		if nft, err := firewall.NewNFT(0); err == nil {
			closers = append(closers, func() { nft.Close() })
			fw := newFirewall(nft, o.Firewall)
			env.HaveFirewall = func() error { _, err := fw.Backend(); return err }
		}
	}
	return env, func() {
		for _, c := range closers {
			c()
		}
	}
}

// starter starts userspace devices: an external implementation (run as
// `IMPL IF`, which must daemonise, as wg-quick runs wireguard-go), or by
// default the embedded device, running self as `SELF userspace
// --foreground IF` detached.
//
// The external implementation writes to our own stdout and stderr, as under
// the reference, and never into a pipe of ours: the daemon it leaves behind
// keeps what it inherited (wireguard-go keeps both when LOG_LEVEL is set),
// so a pipe would reach end-of-file only when the device goes away, and
// `up` would wait for that.
type starter struct {
	external       string
	self           string
	stdout, stderr io.Writer
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
	if s.self == "" {
		// Options.Self is empty when os.Executable failed.
		return errors.New("cannot start the embedded userspace device: this program's own path is unknown")
	}
	_, err := userspace.Spawn(s.self, []string{"userspace", "--foreground", name}, name, os.Environ(), 10*time.Second)
	return err
}
