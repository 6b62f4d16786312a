package quick

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/keys"
)

// Finding is one result of Check: an error `up` would hit, or a warning
// about something that works but is likely not what was meant.
type Finding struct {
	Severity string `json:"severity"` // "error" or "warning"
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Message  string `json:"message"`
}

func (f Finding) String() string {
	place := f.File
	if f.Line > 0 {
		place += fmt.Sprintf(":%d", f.Line)
	}
	return fmt.Sprintf("%s: %s: %s", place, f.Severity, f.Message)
}

// CheckEnv is what Check may consult; all of it is read-only.
type CheckEnv struct {
	// TableID resolves Table names (nil: names are not checked).
	TableID func(name string) (int, error)
	// Resolver resolves endpoint host names (nil: not checked).
	Resolver config.Resolver
	// HaveDNS reports whether DNS servers could be set (nil: not checked).
	HaveDNS func() error
	// HaveFirewall reports whether a full tunnel's firewall rules could be
	// installed (nil: not checked; it needs root to ask the kernel).
	HaveFirewall func() error
	// WorldReadable reports whether the file may be read by anyone.
	WorldReadable bool
	// Writers are warnings naming who other than root may change the file
	// (its owner, its group, everyone, the writers of its directory):
	// its hooks run as root, so whoever can change it can run commands
	// as root.
	Writers []string
}

// firewallHooks returns the expressions for a hook that adds a firewall
// rule and one that removes it; compiled on first use, since most
// invocations of wg-quick never check hooks.
var firewallHooks = sync.OnceValues(func() (add, del *regexp.Regexp) {
	add = regexp.MustCompile(`\b(iptables|ip6tables)\b[^;&|]*\s-(A|I|N)\b|\bnft\b[^;&|]*\badd\b|\bufw\b[^;&|]*\ballow\b`)
	del = regexp.MustCompile(`\b(iptables|ip6tables)\b[^;&|]*\s-(D|F|X)\b|\bnft\b[^;&|]*\b(delete|flush)\b|\bufw\b[^;&|]*\bdelete\b`)
	return add, del
})

// Check finds, without touching the system, every error `wg-quick up`
// would hit with this file, and warns about likely mistakes. It never
// returns an error itself: everything is a Finding.
func Check(ctx context.Context, file string, data []byte, env CheckEnv) []Finding {
	var out []Finding
	add := func(sev string, line int, format string, args ...any) {
		out = append(out, Finding{Severity: sev, File: file, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	if env.WorldReadable {
		add("warning", 0, "the file is world accessible and holds a private key; chmod 600 it")
	}
	for _, w := range env.Writers {
		add("warning", 0, "%s", w)
	}
	var warnings []Finding
	cfg, err := config.ParseQuick(data, config.Options{File: file, Warn: func(line int, msg string) {
		warnings = append(warnings, Finding{Severity: "warning", File: file, Line: line, Message: strings.TrimPrefix(msg, "Warning: ")})
	}})
	out = append(out, warnings...)
	if err != nil {
		var pe *config.ParseError
		if errors.As(err, &pe) {
			msg := pe.Msg
			if pe.Hint != "" {
				msg += " (" + pe.Hint + ")"
			}
			add("error", pe.Line, "%s", msg)
		} else {
			add("error", 0, "%v", err)
		}
		return out
	}
	ifc := &cfg.Interface
	lines := directiveLines(data)

	if t := ifc.Table; t != "" && t != "auto" && t != "off" && env.TableID != nil {
		if _, err := env.TableID(t); err != nil {
			add("error", lines["table"], "Table `%s' is not a number nor a name in rt_tables", t)
		}
	}
	if len(ifc.DNS) > 0 && env.HaveDNS != nil {
		if err := env.HaveDNS(); err != nil {
			add("error", lines["dns"], "%v", err)
		}
	}
	if len(ifc.DNS) > 0 && ifc.Table == "off" {
		add("warning", lines["dns"], "DNS is set with Table = off: the servers are reachable through the tunnel only if your own routes say so")
	}
	if len(ifc.DNSSearch) > 0 && len(ifc.DNS) == 0 {
		add("warning", lines["dns"], "DNS has search domains but no server: wg-quick ignores them")
	}

	var own wgtypes.Key
	if ifc.PrivateKey != nil {
		own = keys.Public(*ifc.PrivateKey)
	}
	firstSection := map[wgtypes.Key]int{}
	owner := map[netip.Prefix]int{} // masked prefix → last peer given it
	has4, has6 := false, false
	fullLine := 0 // the first peer with a /0
	for i := range cfg.Peers {
		p := &cfg.Peers[i]
		if ifc.PrivateKey != nil && p.PublicKey == own {
			add("warning", p.Line, "this peer's key is the interface's own public key: WireGuard ignores the peer")
		}
		if first, dup := firstSection[p.PublicKey]; dup {
			add("warning", p.Line, "duplicate peer: the key of the [Peer] at line %d again; its AllowedIPs replace those of the first section", cfg.Peers[first].Line)
		} else {
			firstSection[p.PublicKey] = i
		}
		for _, a := range p.AllowedIPs {
			m := a.Prefix.Masked()
			if m.Bits() == 0 {
				has4 = has4 || m.Addr().Is4()
				has6 = has6 || m.Addr().Is6()
				if fullLine == 0 {
					fullLine = p.Line
				}
			}
			if j, taken := owner[m]; taken && cfg.Peers[j].PublicKey != p.PublicKey {
				add("warning", p.Line, "AllowedIPs %s is also given to the [Peer] at line %d: a prefix belongs to one peer, the one configured last wins (this one)", m, cfg.Peers[j].Line)
			}
			owner[m] = i
		}
		if e := p.Endpoint; e != nil && !e.Addr.IsValid() && env.Resolver != nil {
			if _, err := env.Resolver.LookupNetIP(ctx, "ip", e.Host); err != nil {
				reason := err.Error()
				var dnsErr *net.DNSError
				if errors.As(err, &dnsErr) {
					reason = dnsErr.Err
				}
				add("warning", p.Line, "endpoint host %s does not resolve now: %s", e.Host, reason)
			}
		}
	}
	// Overlaps between different prefixes held by different peers (after
	// the reassignments above): legal, the most specific prefix wins, but
	// worth saying.
	held := make([]netip.Prefix, 0, len(owner))
	for p := range owner {
		held = append(held, p)
	}
	slices.SortFunc(held, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	// Sorted by first address, the prefixes overlapping a are the ones
	// right after it that start within it: the scan stops at the first
	// that starts past a's last address, so the whole is O(n log n) plus
	// one step per overlap reported (a quadratic scan took 2 s for 8,000
	// peers). /0s overlap everything and are not reported, so they are
	// not scanned from.
	for x, a := range held {
		if a.Bits() == 0 {
			continue
		}
		last := lastAddr(a)
		for _, b := range held[x+1:] {
			if last.Less(b.Addr()) { // (IPv4 sorts before IPv6: a family ends here too)
				break
			}
			pa, pb := &cfg.Peers[owner[a]], &cfg.Peers[owner[b]]
			if b.Bits() == 0 || pa.PublicKey == pb.PublicKey {
				continue
			}
			narrow, np := a, pa
			if b.Bits() > a.Bits() {
				narrow, np = b, pb
			}
			add("warning", max(pa.Line, pb.Line), "AllowedIPs %s (peer at line %d) and %s (peer at line %d) overlap: traffic to %s goes to the peer at line %d, the most specific",
				a, pa.Line, b, pb.Line, narrow, np.Line)
		}
	}
	if ifc.Table == "" || ifc.Table == "auto" {
		if has4 && !has6 {
			add("warning", 0, "full tunnel for IPv4 only (0.0.0.0/0 without ::/0): IPv6 traffic leaks outside the tunnel")
		}
		if (has4 || has6) && env.HaveFirewall != nil {
			if err := env.HaveFirewall(); err != nil {
				add("error", fullLine, "%v", err)
			}
		}
	}
	addsFW, removesFW := false, false
	for _, h := range append(append([]string{}, ifc.PreUp...), ifc.PostUp...) {
		fwAdd, _ := firewallHooks()
		addsFW = addsFW || fwAdd.MatchString(h)
	}
	for _, h := range append(append([]string{}, ifc.PreDown...), ifc.PostDown...) {
		_, fwDel := firewallHooks()
		removesFW = removesFW || fwDel.MatchString(h)
	}
	if addsFW && !removesFW {
		add("warning", lines["postup"], "a PostUp/PreUp hook adds firewall rules but no PreDown/PostDown hook removes them: they pile up with every up")
	}
	sortFindings(out)
	return out
}

// directiveLines finds the first line of each wg-quick key, for messages.
func directiveLines(data []byte) map[string]int {
	m := map[string]int{}
	ds, err := config.Directives(data, config.Options{})
	if err != nil {
		return m
	}
	for _, d := range ds {
		k := strings.ToLower(d.Key)
		if k == "preup" {
			k = "postup"
		}
		if _, ok := m[k]; !ok {
			m[k] = d.Line
		}
	}
	return m
}

// sortFindings puts errors first, then orders by line; stable, so that
// findings of one line keep their order.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if a.Severity != b.Severity {
			if a.Severity == "error" {
				return -1
			}
			return 1
		}
		return a.Line - b.Line
	})
}

// lastAddr is the last address a masked prefix covers.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := range b {
		if keep := p.Bits() - 8*i; keep < 8 {
			b[i] |= 0xff >> max(keep, 0)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
