package quick

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/device"
	"github.com/wgtools/wgtools/internal/dns"
	"github.com/wgtools/wgtools/internal/firewall"
	"github.com/wgtools/wgtools/internal/hooks"
	"github.com/wgtools/wgtools/internal/keys"
	"github.com/wgtools/wgtools/internal/route"
	"github.com/wgtools/wgtools/internal/sysexec"
)

// fakeSystem is the whole host as quick sees it: links with addresses and
// an MTU, routes per table, policy rules, nftables tables, a sysctl, and the
// WireGuard devices. Its String is the state compared before and after.
// fail names one operation ("AddAddress", "AddRule#2", ...) that errors.
type fakeSystem struct {
	links    map[string]*fakeLink
	routes   map[int][]string // table → "prefix dev IF"
	rules    []route.Rule
	nft      map[string]bool
	sysctl   map[string]string
	devices  map[string]*wgtypes.Device
	fail     string
	calls    map[string]int
	external bool // the kernel lacks WireGuard
	// backend is what the firewall reports using ("" is nftables), or
	// backendErr why there is none.
	backend    string
	backendErr error
	removedBy  []string // the backend of each Remove
	// configs are the requests Configure accepted, in order.
	configs []wgtypes.Config
}

type fakeLink struct {
	addrs []netip.Prefix
	mtu   int
	up    bool
}

func newFakeSystem() *fakeSystem {
	return &fakeSystem{
		links:   map[string]*fakeLink{"eth0": {mtu: 1500, up: true}},
		routes:  map[int][]string{254: {"0.0.0.0/0 dev eth0"}},
		rules:   []route.Rule{{Family: 4, Priority: 32766, Table: 254, SuppressPrefixlen: -1}, {Family: 6, Priority: 32766, Table: 254, SuppressPrefixlen: -1}},
		nft:     map[string]bool{},
		sysctl:  map[string]string{"net.ipv4.conf.all.src_valid_mark": "0"},
		devices: map[string]*wgtypes.Device{},
		calls:   map[string]int{},
	}
}

func (f *fakeSystem) op(name string) error {
	f.calls[name]++
	if f.fail == name || f.fail == fmt.Sprintf("%s#%d", name, f.calls[name]) {
		return fmt.Errorf("injected failure in %s", name)
	}
	return nil
}

func (f *fakeSystem) String() string {
	var b strings.Builder
	for _, n := range sortedKeys(f.links) {
		l := f.links[n]
		fmt.Fprintf(&b, "link %s mtu %d up %v addrs %v\n", n, l.mtu, l.up, l.addrs)
	}
	for _, t := range sortedKeys(f.routes) {
		fmt.Fprintf(&b, "table %d: %v\n", t, f.routes[t])
	}
	for _, r := range f.rules {
		fmt.Fprintf(&b, "rule %d %d: %s\n", r.Family, r.Priority, r)
	}
	for _, n := range sortedKeys(f.nft) {
		fmt.Fprintf(&b, "nft %s\n", n)
	}
	fmt.Fprintf(&b, "sysctl %v\n", f.sysctl)
	for _, n := range sortedKeys(f.devices) {
		fmt.Fprintf(&b, "device %s\n", n)
	}
	return b.String()
}

func sortedKeys[K interface{ ~string | ~int }, V any](m map[K]V) []K {
	var ks []K
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Router

func (f *fakeSystem) LinkExists(name string) (bool, error) { _, ok := f.links[name]; return ok, nil }
func (f *fakeSystem) AddWireGuardLink(name string) error {
	if err := f.op("AddWireGuardLink"); err != nil {
		return err
	}
	if f.external {
		return fmt.Errorf("adding link: %w", route.ErrLinkTypeUnsupported)
	}
	f.links[name] = &fakeLink{mtu: 1420}
	f.devices[name] = &wgtypes.Device{Name: name}
	return nil
}
func (f *fakeSystem) DeleteLink(name string) error {
	if _, ok := f.links[name]; !ok {
		return fmt.Errorf("deleting %s: %w", name, fs.ErrNotExist)
	}
	delete(f.links, name)
	delete(f.devices, name)
	for t, rs := range f.routes {
		f.routes[t] = slices.DeleteFunc(rs, func(r string) bool { return strings.HasSuffix(r, " dev "+name) })
		if len(f.routes[t]) == 0 {
			delete(f.routes, t)
		}
	}
	return nil
}
func (f *fakeSystem) AddAddress(name string, p netip.Prefix) error {
	if err := f.op("AddAddress"); err != nil {
		return err
	}
	l := f.links[name]
	if slices.Contains(l.addrs, p) {
		return route.ErrExists
	}
	l.addrs = append(l.addrs, p)
	return nil
}
func (f *fakeSystem) DeleteAddress(name string, p netip.Prefix) error {
	if err := f.op("DeleteAddress"); err != nil {
		return err
	}
	l := f.links[name]
	if !slices.Contains(l.addrs, p) {
		return fmt.Errorf("deleting %v: %w", p, fs.ErrNotExist)
	}
	l.addrs = slices.DeleteFunc(slices.Clone(l.addrs), func(a netip.Prefix) bool { return a == p })
	return nil
}
func (f *fakeSystem) Addresses(name string) ([]netip.Prefix, error) { return f.links[name].addrs, nil }
func (f *fakeSystem) SetMTUUp(name string, mtu int) error {
	if err := f.op("SetMTUUp"); err != nil {
		return err
	}
	f.links[name].mtu, f.links[name].up = mtu, true
	return nil
}
func (f *fakeSystem) LinkMTU(name string) (int, error)       { return f.links[name].mtu, nil }
func (f *fakeSystem) RouteMTU(netip.Addr) (int, bool, error) { return 1400, true, nil }
func (f *fakeSystem) DefaultRouteMTU() (int, bool, error)    { return 1500, true, nil }
func (f *fakeSystem) AddRoute(name string, p netip.Prefix, table int) error {
	if err := f.op("AddRoute"); err != nil {
		return err
	}
	if table == 0 {
		table = 254
	}
	f.routes[table] = append(f.routes[table], p.String()+" dev "+name)
	return nil
}
func (f *fakeSystem) DeleteRoute(name string, p netip.Prefix, table int) error {
	if err := f.op("DeleteRoute"); err != nil {
		return err
	}
	if table == 0 {
		table = 254
	}
	i := slices.Index(f.routes[table], p.String()+" dev "+name)
	if i < 0 {
		return fmt.Errorf("deleting route %v: %w", p, fs.ErrNotExist)
	}
	f.routes[table] = slices.Delete(f.routes[table], i, i+1)
	if len(f.routes[table]) == 0 {
		delete(f.routes, table)
	}
	return nil
}
func (f *fakeSystem) LinkRoutes(name string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, r := range f.routes[254] {
		if dst, ok := strings.CutSuffix(r, " dev "+name); ok {
			out = append(out, netip.MustParsePrefix(dst))
		}
	}
	return out, nil
}
func (f *fakeSystem) TableEmpty(table int) (bool, error) { return len(f.routes[table]) == 0, nil }
func (f *fakeSystem) AddRule(r route.Rule) error {
	if err := f.op("AddRule"); err != nil {
		return err
	}
	f.rules = append(f.rules, r)
	return nil
}
func (f *fakeSystem) DeleteRule(r route.Rule) error {
	if err := f.op("DeleteRule"); err != nil {
		return err
	}
	i := slices.Index(f.rules, r)
	if i < 0 {
		return fmt.Errorf("deleting rule %v: %w", r, fs.ErrNotExist)
	}
	f.rules = slices.Delete(f.rules, i, i+1)
	return nil
}
func (f *fakeSystem) Rules(family int) ([]route.Rule, error) {
	var out []route.Rule
	for _, r := range f.rules {
		if r.Family == family {
			out = append(out, r)
		}
	}
	return out, nil
}
func (f *fakeSystem) DefaultRulePriority(family int) (int, error) {
	var prios []int
	for _, r := range f.rules {
		if r.Family == family {
			prios = append(prios, r.Priority)
		}
	}
	slices.Sort(prios)
	if len(prios) >= 2 && prios[1] > 0 {
		return prios[1] - 1, nil
	}
	return 0, nil
}
func (f *fakeSystem) TableID(name string) (int, error) {
	if name == "vpn" {
		return 100, nil
	}
	if n, err := strconv.Atoi(name); err == nil {
		return n, nil
	}
	return 0, errors.New("no such table")
}
func (f *fakeSystem) ReadSysctl(key string) (string, error) { return f.sysctl[key], nil }
func (f *fakeSystem) WriteSysctl(key, value string) error {
	if err := f.op("WriteSysctl"); err != nil {
		return err
	}
	f.sysctl[key] = value
	return nil
}

// Device

func (f *fakeSystem) Names() ([]string, error) { return sortedKeys(f.devices), nil }
func (f *fakeSystem) Get(name string) (*wgtypes.Device, error) {
	d, ok := f.devices[name]
	if !ok {
		return nil, errors.New("no such device")
	}
	// A copy, as a real device's reply is: what the caller holds must not
	// change under it when the device does.
	c := *d
	c.Peers = slices.Clone(d.Peers)
	for i := range c.Peers {
		c.Peers[i].AllowedIPs = slices.Clone(c.Peers[i].AllowedIPs)
		if ep := c.Peers[i].Endpoint; ep != nil {
			e := *ep
			c.Peers[i].Endpoint = &e
		}
	}
	return &c, nil
}

// Configure applies a request as the UAPI does: absent fields are kept, a
// peer is created unless update_only, allowed IPs are masked and move to
// the peer given them last.
func (f *fakeSystem) Configure(name string, cfg wgtypes.Config) error {
	if err := f.op("Configure"); err != nil {
		return err
	}
	d, ok := f.devices[name]
	if !ok {
		return errors.New("no such device")
	}
	f.configs = append(f.configs, cfg)
	if cfg.PrivateKey != nil {
		d.PrivateKey, d.PublicKey = *cfg.PrivateKey, wgtypes.Key{}
		if d.PrivateKey != (wgtypes.Key{}) {
			d.PublicKey = keys.Public(d.PrivateKey)
		}
	}
	if cfg.ListenPort != nil {
		d.ListenPort = *cfg.ListenPort
	}
	if cfg.FirewallMark != nil {
		d.FirewallMark = *cfg.FirewallMark
	}
	if cfg.ReplacePeers {
		d.Peers = nil
	}
	for _, pc := range cfg.Peers {
		i := slices.IndexFunc(d.Peers, func(p wgtypes.Peer) bool { return p.PublicKey == pc.PublicKey })
		if pc.Remove {
			if i >= 0 {
				d.Peers = slices.Delete(d.Peers, i, i+1)
			}
			continue
		}
		if i < 0 {
			if pc.UpdateOnly {
				continue
			}
			d.Peers = append(d.Peers, wgtypes.Peer{PublicKey: pc.PublicKey})
			i = len(d.Peers) - 1
		}
		p := &d.Peers[i]
		if pc.PresharedKey != nil {
			p.PresharedKey = *pc.PresharedKey
		}
		if pc.Endpoint != nil {
			e := *pc.Endpoint
			p.Endpoint = &e
		}
		if pc.PersistentKeepaliveInterval != nil {
			p.PersistentKeepaliveInterval = *pc.PersistentKeepaliveInterval
		}
		if pc.ReplaceAllowedIPs {
			p.AllowedIPs = nil
		}
		for _, n := range pc.AllowedIPs {
			ones, bits := n.Mask.Size()
			a, _ := netip.AddrFromSlice(n.IP)
			if bits == 32 {
				a = a.Unmap()
			}
			m := netip.PrefixFrom(a, ones).Masked()
			for j := range d.Peers {
				d.Peers[j].AllowedIPs = slices.DeleteFunc(d.Peers[j].AllowedIPs, func(x net.IPNet) bool { return x.String() == m.String() })
			}
			p.AllowedIPs = append(p.AllowedIPs, net.IPNet{IP: m.Addr().AsSlice(), Mask: net.CIDRMask(m.Bits(), m.Addr().BitLen())})
		}
	}
	return nil
}

// Firewall

func (f *fakeSystem) Apply(r firewall.Rules, _ string) error {
	if err := f.op("Apply"); err != nil {
		return err
	}
	f.nft[fmt.Sprintf("ip%d wg-quick-%s", r.Family, r.Interface)] = true
	return nil
}
func (f *fakeSystem) Backend() (string, error) {
	if f.backendErr != nil {
		return "", f.backendErr
	}
	if f.backend == "" {
		return firewall.BackendNFT, nil
	}
	return f.backend, nil
}
func (f *fakeSystem) Remove(iface, backend string) error {
	if err := f.op("Remove"); err != nil {
		return err
	}
	f.removedBy = append(f.removedBy, backend)
	for k := range f.nft {
		if strings.HasSuffix(k, " wg-quick-"+iface) {
			delete(f.nft, k)
		}
	}
	return nil
}

// Userspace

func (f *fakeSystem) Label(name string) string { return "wg-quick userspace " + name }
func (f *fakeSystem) Start(_ context.Context, name string) error {
	if err := f.op("Start"); err != nil {
		return err
	}
	f.links[name] = &fakeLink{mtu: 1420}
	f.devices[name] = &wgtypes.Device{Name: name}
	return nil
}

var (
	_ Router    = (*route.Manager)(nil)
	_ Device    = (*device.Client)(nil)
	_ Firewall  = (*firewall.Auto)(nil)
	_ Router    = (*fakeSystem)(nil)
	_ Device    = (*fakeSystem)(nil)
	_ Firewall  = (*fakeSystem)(nil)
	_ Userspace = (*fakeSystem)(nil)
)

func newEnv(t *testing.T, f *fakeSystem, rec *sysexec.Recorder, stderr *bytes.Buffer) *Env {
	t.Helper()
	d := dns.New(rec)
	d.LookPath = func(name string) (string, bool) { return "/sbin/" + name, name == "resolvconf" }
	d.InterfaceOrder = "/nonexistent"
	return &Env{
		Links: f, Routes: f, Policy: f, Device: f, Firewall: f, Userspace: f, DNS: d,
		Hooks:        &hooks.Runner{Exec: rec, Iface: "wg0", Env: []string{}, Stdout: stderr, Stderr: stderr},
		Resolver:     net.DefaultResolver,
		KernelModule: func() bool { return false },
		StateDir:     t.TempDir(),
		Stderr:       stderr,
	}
}
