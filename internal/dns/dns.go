// Package dns applies and reverts wg-quick's DNS= setting for one
// interface: through resolvconf(8) when it is installed, with the reference's
// interface-record naming; otherwise through systemd-resolved (resolvectl)
// when it runs. With neither, Check fails before anything is changed.
package dns

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/wgtools/wgtools/internal/sysexec"
)

// ErrNoResolver is returned when neither resolvconf nor systemd-resolved
// is available to take DNS servers.
var ErrNoResolver = errors.New("DNS is set but neither resolvconf nor systemd-resolved is available")

// Manager sets and unsets DNS for interfaces.
type Manager struct {
	Exec sysexec.Runner
	// LookPath finds programs (nil: sysexec.LookPath).
	LookPath func(string) (string, bool)
	// InterfaceOrder is Debian resolvconf's interface-order file.
	InterfaceOrder string
	// ResolvedRunning reports whether systemd-resolved runs (nil: checks
	// /run/systemd/resolve/io.systemd.Resolve).
	ResolvedRunning func() bool
}

// New returns a Manager for this system.
func New(r sysexec.Runner) *Manager {
	return &Manager{Exec: r, InterfaceOrder: "/etc/resolvconf/interface-order"}
}

func (m *Manager) lookPath(name string) (string, bool) {
	if m.LookPath != nil {
		return m.LookPath(name)
	}
	return sysexec.LookPath(name)
}

func (m *Manager) resolved() bool {
	if m.ResolvedRunning != nil {
		return m.ResolvedRunning()
	}
	_, err := os.Stat("/run/systemd/resolve/io.systemd.Resolve")
	return err == nil
}

// backend says which mechanism takes DNS here: "resolvconf",
// "resolvectl", or "" for none.
func (m *Manager) backend() string {
	if _, ok := m.lookPath("resolvconf"); ok {
		return "resolvconf"
	}
	if _, ok := m.lookPath("resolvectl"); ok && m.resolved() {
		return "resolvectl"
	}
	return ""
}

// Check fails when DNS servers are configured and nothing can take them.
func (m *Manager) Check(servers []netip.Addr) error {
	if len(servers) > 0 && m.backend() == "" {
		return ErrNoResolver
	}
	return nil
}

// orderPattern matches a line of resolvconf's interface-order file that
// ends in a wildcard; compiled on first use, not by every wg-quick.
var orderPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Za-z0-9-]+)\*$`) })

// Record is the resolvconf record name for an interface: wg-quick prefixes
// the name with the first `NAME*` pattern of Debian resolvconf's
// interface-order (normally `tun.`), so that resolvconf orders our servers
// like a VPN's, but only when resolvconf is that implementation (the file
// exists and upstream also requires resolvconf not to be a symlink, as
// systemd's resolvconf emulation is).
func (m *Manager) Record(iface string) string {
	p, ok := m.lookPath("resolvconf")
	if !ok {
		return iface
	}
	if st, err := os.Lstat(p); err == nil && st.Mode()&os.ModeSymlink != 0 {
		return iface
	}
	f, err := os.Open(m.InterfaceOrder)
	if err != nil {
		return iface
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if mm := orderPattern().FindStringSubmatch(sc.Text()); mm != nil {
			return mm[1] + "." + iface
		}
	}
	return iface
}

// Step is one DNS change, printable as the command it stands for.
type Step struct {
	Cmd   sysexec.Cmd
	Stdin string
}

func (s Step) String() string { return s.Cmd.String() }

// SetSteps returns the commands that give iface the servers and search
// domains. Like wg-quick, search domains alone are ignored.
func (m *Manager) SetSteps(iface string, servers []netip.Addr, search []string) []Step {
	if len(servers) == 0 {
		return nil
	}
	switch m.backend() {
	case "resolvectl":
		args := []string{"dns", iface}
		for _, s := range servers {
			args = append(args, s.String())
		}
		steps := []Step{{Cmd: sysexec.Cmd{Name: "resolvectl", Args: args}}}
		if len(search) > 0 {
			steps = append(steps, Step{Cmd: sysexec.Cmd{Name: "resolvectl", Args: append([]string{"domain", iface}, search...)}})
		}
		return steps
	default:
		var b strings.Builder
		for _, s := range servers {
			fmt.Fprintf(&b, "nameserver %s\n", s)
		}
		if len(search) > 0 {
			fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
		}
		return []Step{{Cmd: sysexec.Cmd{Name: "resolvconf", Args: []string{"-a", m.Record(iface), "-m", "0", "-x"}}, Stdin: b.String()}}
	}
}

// UnsetSteps returns the commands that take iface's DNS away again.
func (m *Manager) UnsetSteps(iface string) []Step {
	switch m.backend() {
	case "resolvectl":
		return []Step{{Cmd: sysexec.Cmd{Name: "resolvectl", Args: []string{"revert", iface}}}}
	case "resolvconf":
		return []Step{{Cmd: sysexec.Cmd{Name: "resolvconf", Args: []string{"-d", m.Record(iface), "-f"}}}}
	}
	return nil
}

// Run runs one step, its output going to stderr.
func (m *Manager) Run(ctx context.Context, s Step, stderr io.Writer) error {
	c := s.Cmd
	if s.Stdin != "" {
		c.Stdin = strings.NewReader(s.Stdin)
	}
	c.Stdout, c.Stderr = stderr, stderr
	return m.Exec.Run(ctx, c)
}

// nameserverLine matches a resolv.conf server line; compiled on first use.
var nameserverLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^nameserver ([a-zA-Z0-9_=+:%.-]+)$`) })

// Servers lists the servers resolvconf holds for iface, for `save`: from
// `resolvconf -l RECORD`, else the record file, as wg-quick reads them.
func (m *Manager) Servers(ctx context.Context, iface string) []netip.Addr {
	rec := m.Record(iface)
	var out bytes.Buffer
	err := m.Exec.Run(ctx, sysexec.Cmd{Name: "resolvconf", Args: []string{"-l", rec}, Stdout: &out, Stderr: io.Discard})
	if err != nil {
		data, ferr := os.ReadFile("/etc/resolvconf/run/interface/" + rec)
		if ferr != nil {
			return nil
		}
		out.Reset()
		out.Write(data)
	}
	var servers []netip.Addr
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if mm := nameserverLine().FindStringSubmatch(strings.TrimSpace(sc.Text())); mm != nil {
			if a, err := netip.ParseAddr(mm[1]); err == nil {
				servers = append(servers, a)
			}
		}
	}
	return servers
}
