package quick

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
	"github.com/wgtools/wgtools/internal/dns"
	"github.com/wgtools/wgtools/internal/firewall"
	"github.com/wgtools/wgtools/internal/hooks"
	"github.com/wgtools/wgtools/internal/route"
)

// Router is what quick needs of rtnetlink; *route.Manager implements it.
type Router interface {
	LinkExists(name string) (bool, error)
	AddWireGuardLink(name string) error
	DeleteLink(name string) error
	AddAddress(name string, p netip.Prefix) error
	DeleteAddress(name string, p netip.Prefix) error
	Addresses(name string) ([]netip.Prefix, error)
	SetMTUUp(name string, mtu int) error
	LinkMTU(name string) (int, error)
	RouteMTU(dst netip.Addr) (int, bool, error)
	DefaultRouteMTU() (int, bool, error)
	RouteOnLinkCovers(name string, p netip.Prefix) (bool, error)
	AddRoute(name string, p netip.Prefix, table int) error
	DeleteRoute(name string, p netip.Prefix, table int) error
	LinkRoutes(name string) ([]netip.Prefix, error)
	TableEmpty(table int) (bool, error)
	AddRule(r route.Rule) error
	DeleteRule(r route.Rule) error
	Rules(family int) ([]route.Rule, error)
	DefaultRulePriority(family int) (int, error)
	TableID(name string) (int, error)
	ReadSysctl(key string) (string, error)
	WriteSysctl(key, value string) error
}

// Device is the WireGuard configuration plane; *device.Client implements it.
type Device interface {
	Names() ([]string, error)
	Get(name string) (*wgtypes.Device, error)
	Configure(name string, cfg wgtypes.Config) error
}

// Firewall installs and removes the full-tunnel rules; *firewall.Auto
// implements it.
type Firewall interface {
	// Backend names what Apply uses (firewall.BackendNFT or
	// BackendIptables), or says why there is nothing to use.
	Backend() (string, error)
	// Apply installs r with backend: the one Backend names for new rules,
	// the recorded one for an interface that has rules (a reload run
	// without the WG_QUICK_FIREWALL its up had must not mix backends).
	Apply(r firewall.Rules, backend string) error
	// Remove deletes iface's rules of both families from backend.
	Remove(iface, backend string) error
}

// Userspace starts a userspace WireGuard device for a name; it returns once
// the device's UAPI socket answers. Label is how the `[#]` line shows it.
type Userspace interface {
	Start(ctx context.Context, name string) error
	Label(name string) string
}

// Env is everything Up, Down and Save touch.
type Env struct {
	Router    Router
	Device    Device
	Firewall  Firewall
	DNS       *dns.Manager
	Hooks     *hooks.Runner
	Userspace Userspace
	Resolver  config.Resolver
	// Retries is the endpoint resolution retry budget.
	Retries int
	// KernelModule reports whether the wireguard module is present; when it
	// is, a failing link creation is not a reason to go userspace.
	KernelModule func() bool
	StateDir     string
	// WriteState writes a journal file; nil writes it atomically through
	// FileStep. Tests set it to see each write.
	WriteState func(path string, data []byte) error
	// FileStep, if set, is called before each system call of the
	// journal's and the configuration file's writes (fault injection).
	FileStep FileStep
	// ConfigFile is the configuration file the command was given, whose
	// leftover temporary files (from a save that was killed) are removed
	// once the interface's lock is held.
	ConfigFile string
	Stderr     io.Writer
	// tableText is the configured Table as written, for `[#]` lines.
	tableText string
	// ConfigWarnings are wg's parse warnings for the file, printed where
	// wg-quick's `wg addconf` would print them.
	ConfigWarnings []string
	// Trace, if set, receives how long each phase of up took (link,
	// device, addresses, mtu, dns, routes, hooks), for benchmarks.
	Trace func(phase string, d time.Duration)
	// Now is the clock Reresolve judges handshakes by; nil is time.Now.
	Now func() time.Time
}

// phase times one phase of up for Trace.
func (e *Env) phase(name string, start *time.Time) {
	if e.Trace != nil {
		now := time.Now()
		e.Trace(name, now.Sub(*start))
		*start = now
	}
}

func (e *Env) logf(format string, args ...any) {
	fmt.Fprintf(e.Stderr, format+"\n", args...)
}

// cmdf prints a `[#]` line, as wg-quick's cmd() does before each action.
func (e *Env) cmdf(format string, args ...any) {
	fmt.Fprintf(e.Stderr, "[#] "+format+"\n", args...)
}

// Error is a failure of up or down with wg-quick's message.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func family(p netip.Prefix) string {
	if p.Addr().Is4() {
		return "-4"
	}
	return "-6"
}

// Up brings the interface up from cfg; on any failure (or ctx cancelled)
// it reverts every change it made and returns the cause.
//
// Endpoint names are looked up before the interface's lock is taken (with
// retries, a name that does not resolve takes over a minute), after the
// checks that come before them in up's order, so that a lookup never holds
// up another wg-quick working on the interface. Everything is checked
// again under the lock.
func (e *Env) Up(ctx context.Context, iface string, cfg *config.Config) (err error) {
	if _, err := e.upChecks(ctx, iface, cfg); err != nil {
		return err
	}
	unlock, err := e.lock(ctx, iface)
	if err != nil {
		return err
	}
	defer unlock()
	return e.up(ctx, iface, cfg, true)
}

// upChecks checks, without changing anything, what up needs before its
// first change: no interface of that name, the Table, a DNS tool, the
// endpoints' names (resolved into cfg; resolved ones are not looked up
// again). It returns the table.
func (e *Env) upChecks(ctx context.Context, iface string, cfg *config.Config) (table int, err error) {
	if exists, err := e.Router.LinkExists(iface); err != nil {
		return 0, err
	} else if exists {
		// Unless it is the interface of an up of ours that was killed
		// before it finished, which up takes down first.
		if h := peekJournal(journalPath(e.StateDir, iface)); h == nil || h.Complete {
			return 0, &Error{fmt.Sprintf("`%s' already exists", iface)}
		}
	}
	if table, err = e.tableFor(cfg); err != nil {
		return 0, err
	}
	if err := e.DNS.Check(cfg.Interface.DNS); err != nil {
		return 0, err
	}
	if err := config.ResolveEndpoints(ctx, cfg, e.Resolver, config.Retry{Retries: e.Retries, Logf: e.logf}); err != nil {
		return 0, err
	}
	return table, nil
}

// up is Up with the lock held; hooks says whether PreUp and PostUp run.
func (e *Env) up(ctx context.Context, iface string, cfg *config.Config, hooks bool) (err error) {
	start := time.Now()

	// Everything that can be checked without changing the system is
	// checked first, so a bad file or a missing prerequisite changes
	// nothing at all.
	table, err := e.upChecks(ctx, iface, cfg)
	if err != nil {
		return err
	}
	e.tableText = cfg.Interface.Table
	wc, err := device.WGConfig(cfg, device.Set)
	if err != nil {
		return err
	}

	peers, err := mergePeers(cfg)
	if err != nil {
		return err
	}
	applied := newApplied(cfg, peers)
	// A full tunnel needs a firewall; without one, fail before any change.
	if len(fullFamilies(applied)) > 0 {
		if _, err := e.Firewall.Backend(); err != nil {
			return err
		}
	}
	// A journal here means an earlier `up` of this name that either lost
	// its interface without a `down` (its userspace device was killed, the
	// link was deleted by hand) or was killed before it finished (then the
	// link may still be there, and upChecks let it pass): undo what it
	// left behind first, or its rules would stay forever.
	if old, err := e.loadJournal(iface); err != nil {
		return err
	} else if old != nil {
		if old.Complete {
			e.logf("[!] Cleaning up after an earlier `%s' whose interface is gone.", iface)
		} else {
			e.logf("[!] Cleaning up after an earlier `%s' that did not finish.", iface)
		}
		if err := e.undoDown(old); err != nil {
			return fmt.Errorf("cleaning up the earlier %s: %w", iface, err)
		}
	}
	j := e.newJournal(iface)
	j.Applied = applied
	defer func() {
		if err != nil {
			if rerr := e.undo(j, true); rerr != nil {
				err = errors.Join(err, fmt.Errorf("rolling back: %w", rerr))
			}
		}
	}()

	e.phase("checks", &start)
	if err := e.addLink(ctx, iface, j); err != nil {
		return err
	}
	e.phase("link", &start)
	if err := e.runHooks(ctx, hooks, cfg.Interface.PreUp); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e.phase("preup", &start)
	e.cmdf("wg addconf %s /dev/fd/63", iface)
	for _, w := range e.ConfigWarnings {
		e.logf("%s", w)
	}
	if err := e.Device.Configure(iface, wc); err != nil {
		return fmt.Errorf("configuring %s: %s", iface, device.Strerror(err))
	}
	e.phase("device", &start)
	for i, a := range cfg.Interface.Addresses {
		// The address as written (10.0.0.1, not 10.0.0.1/32), as wg-quick
		// passes it to ip.
		text := a.String()
		if i < len(cfg.Interface.AddressText) {
			text = cfg.Interface.AddressText[i]
		}
		e.cmdf("ip %s address add %s dev %s", family(a), text, iface)
		if err := e.Router.AddAddress(iface, a); err != nil {
			return err
		}
	}
	// One read of the device serves both the MTU and the routes (wg-quick
	// runs `wg show` twice); nothing in between changes its peers.
	dev, err := e.Device.Get(iface)
	if err != nil {
		return fmt.Errorf("reading %s: %s", iface, device.Strerror(err))
	}
	if err := e.setMTUUp(iface, cfg, dev); err != nil {
		return err
	}
	e.phase("addresses+mtu", &start)
	if err := e.setDNS(ctx, iface, cfg, j); err != nil {
		return err
	}
	e.phase("dns", &start)
	if err := e.addRoutes(iface, table, dev, j); err != nil {
		return err
	}
	e.phase("routes", &start)
	if err := e.runHooks(ctx, hooks, cfg.Interface.PostUp); err != nil {
		return err
	}
	e.phase("postup", &start)
	if err := ctx.Err(); err != nil {
		return err
	}
	j.Complete = true
	err = j.save()
	e.phase("journal", &start)
	return err
}

// runHooks runs hook commands when run is true.
func (e *Env) runHooks(ctx context.Context, run bool, cmds []string) error {
	if !run {
		return nil
	}
	return e.Hooks.Run(ctx, cmds)
}

// tableFor interprets Table: "" or "auto" → -1 (auto), "off" → 0,
// otherwise a table number or a name from rt_tables.
func (e *Env) tableFor(cfg *config.Config) (int, error) {
	switch t := cfg.Interface.Table; t {
	case "", "auto":
		return -1, nil
	case "off":
		return 0, nil
	default:
		id, err := e.Router.TableID(t)
		if err != nil {
			return 0, fmt.Errorf("table `%s': %w", t, err)
		}
		return id, nil
	}
}

// addLink creates the link, recording it first (write-ahead, as every
// change): a process killed right after the link appeared leaves a journal
// that says so, from which the next down or up removes it. Deleting a link
// that was never made is not an error.
func (e *Env) addLink(ctx context.Context, iface string, j *Journal) error {
	if err := j.record(Undo{Kind: "link"}); err != nil {
		return err
	}
	e.cmdf("ip link add dev %s type wireguard", iface)
	err := e.Router.AddWireGuardLink(iface)
	if err == nil {
		return nil
	}
	if !errors.Is(err, route.ErrLinkTypeUnsupported) || (e.KernelModule != nil && e.KernelModule()) || e.Userspace == nil {
		// Not ours to delete (it may have been made meanwhile by
		// someone else, EEXIST): forget the record.
		j.Undo = j.Undo[:len(j.Undo)-1]
		return errors.Join(err, j.save())
	}
	e.logf("[!] Missing WireGuard kernel module. Falling back to slow userspace implementation.")
	j.Undo[len(j.Undo)-1].Userspace = true
	if err := j.save(); err != nil {
		return err
	}
	e.cmdf("%s", e.Userspace.Label(iface))
	return e.Userspace.Start(ctx, iface)
}

// setMTUUp sets the MTU (the configured one, or the smallest MTU of the
// routes to the peers' endpoints, else of the default route, else 1500,
// minus 80 for WireGuard's overhead) and brings the link up.
func (e *Env) setMTUUp(iface string, cfg *config.Config, d *wgtypes.Device) error {
	mtu := cfg.Interface.MTU
	if mtu == 0 {
		mtu = e.autoMTU(d)
	}
	e.cmdf("ip link set mtu %d up dev %s", mtu, iface)
	return e.Router.SetMTUUp(iface, mtu)
}

// autoMTU is wg-quick's MTU for a device without MTU=: the smallest MTU of
// the routes to its peers' endpoints, else of the default route, else 1500,
// minus 80 for WireGuard's overhead.
func (e *Env) autoMTU(d *wgtypes.Device) int {
	best := 0
	for _, p := range d.Peers {
		if p.Endpoint == nil || p.Endpoint.Zone != "" {
			continue
		}
		a, ok := netip.AddrFromSlice(p.Endpoint.IP)
		if !ok {
			continue
		}
		if m, ok, err := e.Router.RouteMTU(a.Unmap()); err == nil && ok && (best == 0 || m < best) {
			best = m
		}
	}
	if best == 0 {
		if m, ok, err := e.Router.DefaultRouteMTU(); err == nil && ok {
			best = m
		}
	}
	if best == 0 {
		best = 1500
	}
	return best - 80
}

func (e *Env) setDNS(ctx context.Context, iface string, cfg *config.Config, j *Journal) error {
	steps := e.DNS.SetSteps(iface, cfg.Interface.DNS, cfg.Interface.DNSSearch)
	if len(steps) == 0 {
		return nil
	}
	var unset []string
	for _, s := range e.DNS.UnsetSteps(iface) {
		unset = append(unset, s.Cmd.Name+"\x00"+strings.Join(s.Cmd.Args, "\x00"))
	}
	if err := j.record(Undo{Kind: "dns", DNSUnset: unset}); err != nil {
		return err
	}
	for _, s := range steps {
		e.cmdf("%s", s)
		if err := e.DNS.Run(ctx, s, e.Stderr); err != nil {
			return err
		}
	}
	return nil
}

// sortRoutes orders prefixes as wg-quick's `sort -nr -k 2 -t /` does:
// longest prefix first, ties in reverse byte order of the whole text.
func sortRoutes(ps []netip.Prefix) {
	slices.SortStableFunc(ps, func(a, b netip.Prefix) int {
		if c := cmp.Compare(b.Bits(), a.Bits()); c != 0 {
			return c
		}
		return strings.Compare(b.String(), a.String())
	})
}

func (e *Env) addRoutes(iface string, table int, d *wgtypes.Device, j *Journal) (err error) {
	if table == 0 {
		return nil
	}
	var prefixes []netip.Prefix
	seen := map[netip.Prefix]bool{}
	for _, p := range device.Config(d).Peers {
		for _, a := range p.AllowedIPs {
			pfx := a.Prefix.Masked()
			if !seen[pfx] {
				seen[pfx] = true
				prefixes = append(prefixes, pfx)
			}
		}
	}
	sortRoutes(prefixes)
	mark := uint32(d.FirewallMark)
	defer func() { j.Applied.Mark = mark }()
	// wg-quick asks `ip route show dev IF match P` before each route; one
	// listing kept up to date here answers the same without a dump per
	// prefix (a dump per prefix made up quadratic in the number of peers).
	var onLink []netip.Prefix
	added := map[netip.Prefix]bool{}
	if table < 0 {
		if onLink, err = e.Router.LinkRoutes(iface); err != nil {
			return err
		}
	}
	for _, p := range prefixes {
		switch {
		case table > 0:
			// The table as written, a number or a name, as wg-quick passes it.
			e.cmdf("ip %s route add %s dev %s table %s", family(p), p, iface, e.tableText)
			if err := e.Router.AddRoute(iface, p, table); err != nil {
				return err
			}
			j.Applied.addRoute(p, table)
		case p.Bits() == 0:
			if mark, err = e.addDefault(iface, p, mark, j); err != nil {
				return err
			}
			j.Applied.addRoute(p, int(mark))
		default:
			// Prefixes come longest first, so a route added earlier can
			// cover p only by being p itself.
			if added[p] || covers(onLink, p) {
				continue
			}
			e.cmdf("ip %s route add %s dev %s", family(p), p, iface)
			if err := e.Router.AddRoute(iface, p, 0); err != nil {
				return err
			}
			added[p] = true
			j.Applied.addRoute(p, 0)
		}
	}
	return nil
}

// covers reports whether a route in routes contains p (same family, prefix
// no longer than p's), which is what `ip route show dev IF match P` prints
// something for.
func covers(routes []netip.Prefix, p netip.Prefix) bool {
	for _, r := range routes {
		if r.Addr().Is4() == p.Addr().Is4() && r.Bits() <= p.Bits() && r.Masked().Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// addDefault routes a /0 through the tunnel the way wg-quick does: a
// table T (the device's fwmark, or the first empty table from 51820) holds
// the default route, packets not marked T look it up, and a rule sends
// everything with a more specific route in main there first; the tunnel's
// own packets carry mark T and so escape. The firewall rules stop packets
// spoofing the interface's addresses and carry the mark over to replies.
func (e *Env) addDefault(iface string, p netip.Prefix, mark uint32, j *Journal) (uint32, error) {
	if mark == 0 {
		t := 51820
		for {
			empty, err := e.Router.TableEmpty(t)
			if err != nil {
				return 0, err
			}
			if empty {
				break
			}
			t++
		}
		mark = uint32(t)
		e.cmdf("wg set %s fwmark %d", iface, mark)
		m := int(mark)
		if err := e.Device.Configure(iface, wgtypes.Config{FirewallMark: &m}); err != nil {
			return 0, fmt.Errorf("setting fwmark: %s", device.Strerror(err))
		}
	}
	fam, famFlag := 4, "-4"
	if p.Addr().Is6() {
		fam, famFlag = 6, "-6"
	}
	table := int(mark)
	e.cmdf("ip %s rule add not fwmark %d table %d", famFlag, mark, table)
	if err := e.addRule(route.Rule{Family: fam, Table: table, Mark: mark, Invert: true, SuppressPrefixlen: -1}, j); err != nil {
		return 0, err
	}
	e.cmdf("ip %s rule add table main suppress_prefixlength 0", famFlag)
	if err := e.addRule(route.Rule{Family: fam, Table: 254, SuppressPrefixlen: 0}, j); err != nil {
		return 0, err
	}
	e.cmdf("ip %s route add %s dev %s table %d", famFlag, p, iface, table)
	if err := e.Router.AddRoute(iface, p, table); err != nil {
		return 0, err
	}
	// wg-quick sets src_valid_mark (IPv4 only, and only when it is not
	// already 1) before it installs the firewall rules.
	if fam == 4 {
		const key = "net.ipv4.conf.all.src_valid_mark"
		old, err := e.Router.ReadSysctl(key)
		if err != nil {
			return 0, err
		}
		if strings.TrimSpace(old) != "1" {
			if err := j.record(Undo{Kind: "sysctl", Key: key, Old: strings.TrimSpace(old)}); err != nil {
				return 0, err
			}
			e.cmdf("sysctl -q %s=1", key)
			if err := e.Router.WriteSysctl(key, "1"); err != nil {
				return 0, err
			}
		}
	}
	addrs, err := e.Router.Addresses(iface)
	if err != nil {
		return 0, err
	}
	r := firewall.Rules{Interface: iface, Mark: mark, Family: fam}
	for _, a := range addrs {
		if a.Addr().Is4() == (fam == 4) {
			r.Addrs = append(r.Addrs, a.Addr())
		}
	}
	backend, err := e.firewallBackend(j)
	if err != nil {
		return 0, err
	}
	// One record removes the interface's rules of both families; it lists
	// the families for the transcript of their removal.
	i := slices.IndexFunc(j.Undo, func(u Undo) bool { return u.Kind == "firewall" })
	if i < 0 {
		err = j.record(Undo{Kind: "firewall", Backend: backend, Families: []int{fam}})
	} else if !slices.Contains(j.Undo[i].Families, fam) {
		j.Undo[i].Families = append(j.Undo[i].Families, fam)
		err = j.save()
	}
	if err != nil {
		return 0, err
	}
	e.cmdf("%s", firewall.ApplyCmd(backend, fam))
	if err := e.Firewall.Apply(r, backend); err != nil {
		return 0, err
	}
	return mark, nil
}

// firewallBackend is the backend for j's interface's firewall rules: the
// one its recorded rules were installed with, else the one Backend picks.
func (e *Env) firewallBackend(j *Journal) (string, error) {
	if i := slices.IndexFunc(j.Undo, func(u Undo) bool { return u.Kind == "firewall" }); i >= 0 {
		if b := j.Undo[i].Backend; b != "" {
			return b, nil
		}
		return firewall.BackendNFT, nil // journals from before the backend was recorded
	}
	return e.Firewall.Backend()
}

// addRule adds a policy rule with an explicit priority, the one the kernel
// would have picked for `ip rule add` without one, so the journal can later
// delete exactly this rule and no other interface's identical one.
func (e *Env) addRule(r route.Rule, j *Journal) error {
	prio, err := e.Router.DefaultRulePriority(r.Family)
	if err != nil {
		return err
	}
	r.Priority = prio
	if err := j.record(Undo{Kind: "rule", Family: r.Family, Priority: r.Priority, Table: r.Table, Mark: r.Mark, Invert: r.Invert, Suppress: r.SuppressPrefixlen}); err != nil {
		return err
	}
	return e.Router.AddRule(r)
}

// undo reverts a journal in reverse order. During a failed up every step is
// undone; on down the sysctl is left as it is, as wg-quick leaves it (other
// tunnels may rely on it). Every step is attempted; failures are joined.
func (e *Env) undo(j *Journal, rollback bool) error {
	var errs []error
	var left []Undo // records whose undo failed, newest first
	fail := func(u Undo, err error) {
		errs = append(errs, err)
		left = append(left, u)
	}
	for i := len(j.Undo) - 1; i >= 0; i-- {
		u := j.Undo[i]
		switch u.Kind {
		case "link":
			e.cmdf("ip link delete dev %s", j.Interface)
			if err := e.Router.DeleteLink(j.Interface); err != nil && !notExist(err) {
				fail(u, err)
			}
		case "rule":
			f := "-4"
			if u.Family == 6 {
				f = "-6"
			}
			r := route.Rule{Family: u.Family, Priority: u.Priority, Table: u.Table, Mark: u.Mark, Invert: u.Invert, SuppressPrefixlen: u.Suppress}
			if u.Invert {
				e.cmdf("ip %s rule delete pref %d not fwmark %d table %d", f, u.Priority, u.Mark, u.Table)
			} else {
				e.cmdf("ip %s rule delete pref %d table main suppress_prefixlength %d", f, u.Priority, u.Suppress)
			}
			if err := e.Router.DeleteRule(r); err != nil && !notExist(err) {
				fail(u, err)
			}
		case "firewall":
			for _, c := range firewall.RemoveCmds(u.Backend, u.Families) {
				e.cmdf("%s", c)
			}
			if err := e.Firewall.Remove(j.Interface, u.Backend); err != nil {
				fail(u, err)
			}
		case "dns":
			for _, s := range u.DNSUnset {
				parts := strings.Split(s, "\x00")
				step := dns.Step{}
				step.Cmd.Name, step.Cmd.Args = parts[0], parts[1:]
				e.cmdf("%s", step)
				// wg-quick ignores failures here: the record may be gone.
				_ = e.DNS.Run(context.Background(), step, io.Discard)
			}
		case "sysctl":
			if rollback {
				e.cmdf("sysctl -q %s=%s", u.Key, u.Old)
				if err := e.Router.WriteSysctl(u.Key, u.Old); err != nil {
					fail(u, err)
				}
			}
		}
	}
	// What could not be undone stays in the journal, so that the next
	// down (or up of this name) tries again; the rest is forgotten.
	if len(left) > 0 {
		slices.Reverse(left)
		j.Undo = left
		j.Complete = false
		if err := j.save(); err != nil {
			errs = append(errs, fmt.Errorf("keeping what could not be undone in %s: %w", j.path, err))
		}
		return errors.Join(errs...)
	}
	if err := j.remove(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// notExist reports an undo target that is already gone (route reports a
// missing link, route or rule as fs.ErrNotExist).
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist)
}

// Down takes the interface down: PreDown hooks, save to file if
// SaveConfig, then the recorded changes undone (rules, link, DNS,
// firewall), then PostDown.
func (e *Env) Down(ctx context.Context, iface string, cfg *config.Config, file string) error {
	start := time.Now()
	unlock, err := e.lock(ctx, iface)
	if err != nil {
		return err
	}
	defer unlock()
	names, err := e.Device.Names()
	if err != nil {
		return err
	}
	e.phase("lock+names", &start)
	j, err := e.loadJournal(iface)
	if err != nil {
		return err
	}
	if !slices.Contains(names, iface) {
		if j == nil {
			return notWireGuard(iface)
		}
		// The interface is gone (its userspace device was killed, or the
		// link deleted by hand) but what up set around it is not: remove
		// that. There is nothing to run hooks on or save.
		e.logf("[!] `%s' is gone; removing what wg-quick up set up for it.", iface)
		return e.undoDown(j)
	}
	if err := e.Hooks.Run(ctx, cfg.Interface.PreDown); err != nil {
		return err
	}
	if cfg.Interface.SaveConfig {
		if err := e.save(ctx, iface, cfg, file); err != nil {
			return err
		}
	}
	if j == nil {
		// Not brought up by us (or the state is gone): undo what the
		// configuration implies, as wg-quick does.
		j = e.journalFromConfig(iface, cfg)
	}
	e.phase("predown+save", &start)
	if err := e.undoDown(j); err != nil {
		return err
	}
	e.phase("undo+wait", &start)
	err = e.Hooks.Run(ctx, cfg.Interface.PostDown)
	e.phase("postdown", &start)
	return err
}

// undoDown undoes a journal in wg-quick's down order (policy rules, link,
// DNS, firewall), then waits briefly for a userspace device to go with its
// link: listing the interfaces removes its socket once nothing answers on
// it, as wg does, so no stale socket is left behind.
func (e *Env) undoDown(j *Journal) error {
	order := map[string]int{"sysctl": 0, "rule": 1, "link": 2, "dns": 3, "firewall": 4}
	slices.SortStableFunc(j.Undo, func(a, b Undo) int { return cmp.Compare(order[b.Kind], order[a.Kind]) })
	userspace := slices.ContainsFunc(j.Undo, func(u Undo) bool { return u.Kind == "link" && u.Userspace })
	if err := e.undo(j, false); err != nil {
		return err
	}
	// A userspace device exits, removing its socket, once it sees its link
	// gone; wait for that (up to 5 s), so that an up right after this down
	// does not find the old socket. Polls start short: a device with 1,000
	// peers takes some 20 ms to stop them all.
	for wait, waited := 2*time.Millisecond, time.Duration(0); userspace && waited < 5*time.Second; wait = min(2*wait, 100*time.Millisecond) {
		names, err := e.Device.Names()
		if err != nil || !slices.Contains(names, j.Interface) {
			break
		}
		time.Sleep(wait)
		waited += wait
	}
	return nil
}

// journalFromConfig reconstructs what an `up` of cfg would have recorded,
// for interfaces without a journal: every policy rule pointing at the
// device's fwmark table and, as wg-quick does, every main-table
// suppress_prefixlength 0 rule when the device routes a /0.
func (e *Env) journalFromConfig(iface string, cfg *config.Config) *Journal {
	j := e.newJournal(iface)
	j.Undo = append(j.Undo, Undo{Kind: "link"})
	if len(cfg.Interface.DNS) > 0 {
		var unset []string
		for _, s := range e.DNS.UnsetSteps(iface) {
			unset = append(unset, s.Cmd.Name+"\x00"+strings.Join(s.Cmd.Args, "\x00"))
		}
		j.Undo = append(j.Undo, Undo{Kind: "dns", DNSUnset: unset})
	}
	d, err := e.Device.Get(iface)
	if err != nil || d.FirewallMark == 0 || (cfg.Interface.Table != "" && cfg.Interface.Table != "auto") {
		return j
	}
	fullTunnel := false
	for _, p := range device.Config(d).Peers {
		for _, a := range p.AllowedIPs {
			fullTunnel = fullTunnel || a.Prefix.Bits() == 0
		}
	}
	if !fullTunnel {
		return j
	}
	for _, fam := range []int{4, 6} {
		rules, err := e.Router.Rules(fam)
		if err != nil {
			continue
		}
		for _, r := range rules {
			if r.Table == d.FirewallMark || (r.Table == 254 && r.SuppressPrefixlen == 0) {
				j.Undo = append(j.Undo, Undo{Kind: "rule", Family: fam, Priority: r.Priority, Table: r.Table, Mark: r.Mark, Invert: r.Invert, Suppress: r.SuppressPrefixlen})
			}
		}
	}
	j.Undo = append(j.Undo, Undo{Kind: "firewall"})
	return j
}

// Save writes a running interface's configuration to file, as `wg-quick
// save` does, holding the interface's lock: a reload or down meanwhile
// waits, and so cannot have the file describe half of it.
func (e *Env) Save(ctx context.Context, iface string, cfg *config.Config, file string) error {
	unlock, err := e.lockExisting(ctx, iface)
	if err != nil {
		return err
	}
	defer unlock()
	return e.save(ctx, iface, cfg, file)
}

func (e *Env) save(ctx context.Context, iface string, cfg *config.Config, file string) error {
	text, err := e.SaveText(ctx, iface, cfg)
	if err != nil {
		return err
	}
	return e.WriteConfig(file, text)
}

// SaveText builds the text `wg-quick save` writes for a running interface.
func (e *Env) SaveText(ctx context.Context, iface string, cfg *config.Config) ([]byte, error) {
	d, err := e.Device.Get(iface)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %s", iface, device.Strerror(err))
	}
	c := device.Config(d)
	addrs, err := e.Router.Addresses(iface)
	if err != nil {
		return nil, err
	}
	ifc := &c.Interface
	ifc.Addresses = addrs
	ifc.DNS = e.DNS.Servers(ctx, iface)
	if cfg.Interface.MTU != 0 {
		if ifc.MTU, err = e.Router.LinkMTU(iface); err != nil {
			return nil, err
		}
	}
	ifc.Table, ifc.SaveConfig = cfg.Interface.Table, cfg.Interface.SaveConfig
	ifc.PreUp, ifc.PostUp, ifc.PreDown, ifc.PostDown = cfg.Interface.PreUp, cfg.Interface.PostUp, cfg.Interface.PreDown, cfg.Interface.PostDown
	e.cmdf("wg showconf %s", iface)
	return config.Save(c), nil
}

// WriteConfig replaces the configuration file atomically with mode 0600: a
// crash at any point leaves the old file or the new one (and a temporary
// file, which the next write removes).
func (e *Env) WriteConfig(path string, data []byte) error {
	if err := writeFileAtomic(path, data, 0o600, true, e.FileStep); err != nil {
		return &Error{"Could not write configuration file"}
	}
	return nil
}
