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

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
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

const fullTunnel = `[Interface]
PrivateKey = eGvwC0w/iSf++8d3zGyAxieGhkOVC6HS9CM+5ht1kns=
Address = 10.0.0.2/24, fd00::2/64
DNS = 10.0.0.53, example.com
PreUp = echo pre %i
PostUp = echo post %i
PostDown = echo postdown %i

[Peer]
PublicKey = rH88fXnB0eX4gld6mGOlPI0uEQWNrr4nkzuqOl9fklY=
Endpoint = 192.0.2.1:51820
AllowedIPs = 0.0.0.0/0, ::/0, 10.9.0.0/16
`

func parse(t *testing.T, text string) *config.Config {
	t.Helper()
	c, err := config.ParseQuick([]byte(text), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestUpTranscript checks the order of a full-tunnel up against upstream
// wg-quick's: link (userspace fallback), PreUp, device, addresses, MTU, DNS,
// routes longest prefix first with the two rules before each default route,
// firewall, src_valid_mark, PostUp.
func TestUpTranscript(t *testing.T) {
	f := newFakeSystem()
	f.external = true
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	if err := e.Up(context.Background(), "wg0", parse(t, fullTunnel)); err != nil {
		t.Fatalf("up: %v\n%s", err, stderr.String())
	}
	want := `[#] ip link add dev wg0 type wireguard
[!] Missing WireGuard kernel module. Falling back to slow userspace implementation.
[#] wg-quick userspace wg0
[#] echo pre wg0
[#] wg addconf wg0 /dev/fd/63
[#] ip -4 address add 10.0.0.2/24 dev wg0
[#] ip -6 address add fd00::2/64 dev wg0
[#] ip link set mtu 1320 up dev wg0
[#] resolvconf -a wg0 -m 0 -x
[#] ip -4 route add 10.9.0.0/16 dev wg0
[#] wg set wg0 fwmark 51820
[#] ip -6 rule add not fwmark 51820 table 51820
[#] ip -6 rule add table main suppress_prefixlength 0
[#] ip -6 route add ::/0 dev wg0 table 51820
[#] nft -f /dev/fd/63
[#] ip -4 rule add not fwmark 51820 table 51820
[#] ip -4 rule add table main suppress_prefixlength 0
[#] ip -4 route add 0.0.0.0/0 dev wg0 table 51820
[#] sysctl -q net.ipv4.conf.all.src_valid_mark=1
[#] nft -f /dev/fd/63
[#] echo post wg0
`
	if diff := cmp.Diff(want, stderr.String()); diff != "" {
		t.Errorf("transcript (-want +got):\n%s", diff)
	}
	if got := rec.Stdins[1]; got != "nameserver 10.0.0.53\nsearch example.com\n" {
		t.Errorf("resolvconf input %q", got)
	}
	if f.sysctl["net.ipv4.conf.all.src_valid_mark"] != "1" || !f.nft["ip4 wg-quick-wg0"] || !f.nft["ip6 wg-quick-wg0"] {
		t.Errorf("full tunnel not in place:\n%s", f)
	}
}

// TestIptablesBackend: with the iptables fallback the transcript names
// iptables-restore and ip6tables-restore where nft would be, the journal
// records the backend, and down removes the rules with it (printing one
// restore per family, as wg-quick's remove_firewall does).
func TestIptablesBackend(t *testing.T) {
	f := newFakeSystem()
	f.backend = firewall.BackendIptables
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	before := f.String()
	if err := e.Up(context.Background(), "wg0", parse(t, fullTunnel)); err != nil {
		t.Fatalf("up: %v\n%s", err, stderr.String())
	}
	got := stderr.String()
	for _, want := range []string{
		"[#] ip -6 route add ::/0 dev wg0 table 51820\n[#] ip6tables-restore -n\n",
		"[#] sysctl -q net.ipv4.conf.all.src_valid_mark=1\n[#] iptables-restore -n\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("up transcript lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "nft") {
		t.Errorf("up transcript mentions nft:\n%s", got)
	}
	j, err := loadJournal(e.StateDir, "wg0")
	if err != nil || j == nil {
		t.Fatalf("journal: %v %v", j, err)
	}
	i := slices.IndexFunc(j.Undo, func(u Undo) bool { return u.Kind == UndoFirewall })
	if i < 0 || j.Undo[i].Backend != firewall.BackendIptables || !slices.Equal(j.Undo[i].Families, []int{6, 4}) {
		t.Fatalf("firewall record %+v", j.Undo)
	}
	stderr.Reset()
	if err := e.Down(context.Background(), "wg0", parse(t, fullTunnel), ""); err != nil {
		t.Fatalf("down: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "[#] iptables-restore -n\n[#] ip6tables-restore -n\n") {
		t.Errorf("down transcript:\n%s", stderr.String())
	}
	if !slices.Equal(f.removedBy, []string{firewall.BackendIptables}) {
		t.Errorf("Remove backends %q", f.removedBy)
	}
	f.sysctl["net.ipv4.conf.all.src_valid_mark"] = "0" // down leaves it, as wg-quick
	if after := f.String(); after != before {
		t.Errorf("after down:\n%s\nwant:\n%s", after, before)
	}
}

// TestUpRollback injects a failure into every step of up in turn; the
// system must then be exactly as before, and the error must name the cause.
func TestUpRollback(t *testing.T) {
	steps := []string{"Start", "Configure#1", "AddAddress#1", "AddAddress#2", "SetMTUUp", "AddRoute#1",
		"Configure#2", "AddRule#1", "AddRule#2", "AddRoute#2", "Apply#1", "AddRule#3", "AddRule#4", "AddRoute#3", "WriteSysctl#1", "Apply#2",
		"hook:pre", "hook:post", "resolvconf"}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			f := newFakeSystem()
			f.external = true
			before := f.String()
			rec := &sysexec.Recorder{Results: map[string]error{}}
			switch step {
			case "hook:pre":
				rec.Results["bash -e -o pipefail -O extglob -c echo pre wg0"] = &sysexec.ExitError{Cmd: "pre", Code: 1}
			case "hook:post":
				rec.Results["bash -e -o pipefail -O extglob -c echo post wg0"] = &sysexec.ExitError{Cmd: "post", Code: 1}
			case "resolvconf":
				rec.Results["resolvconf -a wg0 -m 0 -x"] = &sysexec.ExitError{Cmd: "resolvconf", Code: 1}
			default:
				f.fail = step
			}
			var stderr bytes.Buffer
			e := newEnv(t, f, rec, &stderr)
			err := e.Up(context.Background(), "wg0", parse(t, fullTunnel))
			if err == nil {
				t.Fatalf("up succeeded despite the failure\n%s", stderr.String())
			}
			// The error names the cause.
			cause := map[string]string{"hook:pre": "pre: exit status 1", "hook:post": "post: exit status 1", "resolvconf": "resolvconf: exit status 1"}[step]
			if cause == "" {
				name, _, _ := strings.Cut(step, "#")
				cause = "injected failure in " + name
			}
			if !strings.Contains(err.Error(), cause) {
				t.Errorf("error %q does not name the cause %q", err, cause)
			}
			if diff := cmp.Diff(before, f.String()); diff != "" {
				t.Errorf("state after rollback (-before +after):\n%s\ntranscript:\n%s", diff, stderr.String())
			}
			if j, _ := loadJournal(e.StateDir, "wg0"); j != nil {
				t.Errorf("journal left behind: %+v", j)
			}
			// DNS set before the failure must have been reverted.
			if slices.Contains(rec.Cmds, "resolvconf -a wg0 -m 0 -x") && !slices.Contains(rec.Cmds, "resolvconf -d wg0 -f") {
				t.Errorf("DNS not reverted: %v", rec.Cmds)
			}
		})
	}
}

// TestUpInterrupted cancels the context (SIGINT) during up.
func TestUpInterrupted(t *testing.T) {
	f := newFakeSystem()
	before := f.String()
	ctx, cancel := context.WithCancel(context.Background())
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	cancel()
	if err := e.Up(ctx, "wg0", parse(t, fullTunnel)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff(before, f.String()); diff != "" {
		t.Errorf("state after interrupted up (-before +after):\n%s", diff)
	}
}

// TestDownKeepsWhatItCouldNotUndo: a down whose rule deletions fail goes
// on with the rest, fails naming the cause, and keeps exactly the failed
// records in the journal; the next down (the link now gone) removes them
// and the journal.
func TestDownKeepsWhatItCouldNotUndo(t *testing.T) {
	f := newFakeSystem()
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	before := f.String()
	cfg := parse(t, fullTunnel)
	if err := e.Up(context.Background(), "wg0", cfg); err != nil {
		t.Fatal(err)
	}
	f.fail = "DeleteRule"
	err := e.Down(context.Background(), "wg0", cfg, "")
	if err == nil || !strings.Contains(err.Error(), "injected failure in DeleteRule") {
		t.Fatalf("down: %v, want the rule deletion's failure", err)
	}
	if _, ok := f.links["wg0"]; ok {
		t.Error("down stopped at the failed rule: the link is still there")
	}
	j, err := loadJournal(e.StateDir, "wg0")
	if err != nil || j == nil {
		t.Fatalf("journal after the failed down: %v, %v", j, err)
	}
	for _, u := range j.Undo {
		if u.Kind != UndoRule {
			t.Errorf("journal kept %+v, which was undone", u)
		}
	}
	if len(j.Undo) != 4 {
		t.Errorf("journal kept %d records, want the 4 rules", len(j.Undo))
	}
	f.fail = ""
	if err := e.Down(context.Background(), "wg0", cfg, ""); err != nil {
		t.Fatalf("second down: %v", err)
	}
	if j, _ := loadJournal(e.StateDir, "wg0"); j != nil {
		t.Errorf("journal left after the second down: %+v", j)
	}
	want := strings.Replace(before, "src_valid_mark:0", "src_valid_mark:1", 1)
	if diff := cmp.Diff(want, f.String()); diff != "" {
		t.Errorf("state after the second down (-want +got):\n%s", diff)
	}
}

// TestDownRemovesOnlyOwnRules brings two full tunnels up and one down: the
// other's rules, including its identical suppress_prefixlength rule, stay.
func TestDownRemovesOnlyOwnRules(t *testing.T) {
	f := newFakeSystem()
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	before := f.String()
	cfg := parse(t, fullTunnel)
	if err := e.Up(context.Background(), "wg0", cfg); err != nil {
		t.Fatal(err)
	}
	mid := f.String()
	e.Hooks.Iface = "wg1"
	if err := e.Up(context.Background(), "wg1", parse(t, fullTunnel)); err != nil {
		t.Fatal(err)
	}
	if f.devices["wg1"].FirewallMark != 51821 {
		t.Errorf("second tunnel fwmark %d, want 51821", f.devices["wg1"].FirewallMark)
	}
	if err := e.Down(context.Background(), "wg1", cfg, ""); err != nil {
		t.Fatal(err)
	}
	// src_valid_mark stays 1 after down, as with wg-quick.
	if diff := cmp.Diff(mid, f.String()); diff != "" {
		t.Errorf("wg1 down disturbed wg0 (-before wg1 up +after wg1 down):\n%s", diff)
	}
	e.Hooks.Iface = "wg0"
	if err := e.Down(context.Background(), "wg0", cfg, ""); err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(before, "src_valid_mark:0", "src_valid_mark:1", 1)
	if diff := cmp.Diff(want, f.String()); diff != "" {
		t.Errorf("state after both down (-want +got):\n%s", diff)
	}
}

// TestDownUsesJournalNotConfig: the file changed between up and down (DNS
// removed, full tunnel removed); down still undoes what up did.
func TestDownUsesJournalNotConfig(t *testing.T) {
	f := newFakeSystem()
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	before := f.String()
	if err := e.Up(context.Background(), "wg0", parse(t, fullTunnel)); err != nil {
		t.Fatal(err)
	}
	changed := parse(t, "[Interface]\nPrivateKey = eGvwC0w/iSf++8d3zGyAxieGhkOVC6HS9CM+5ht1kns=\n")
	if err := e.Down(context.Background(), "wg0", changed, ""); err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(before, "src_valid_mark:0", "src_valid_mark:1", 1)
	if diff := cmp.Diff(want, f.String()); diff != "" {
		t.Errorf("state after down (-want +got):\n%s", diff)
	}
	if !slices.Contains(rec.Cmds, "resolvconf -d wg0 -f") {
		t.Errorf("DNS recorded at up was not removed: %v", rec.Cmds)
	}
}

func TestUpPreflight(t *testing.T) {
	for name, tt := range map[string]struct {
		cfg  string
		prep func(*fakeSystem, *Env)
		want string
	}{
		"exists":    {cfg: "[Interface]\n", prep: func(f *fakeSystem, _ *Env) { f.links["wg0"] = &fakeLink{} }, want: "`wg0' already exists"},
		"bad table": {cfg: "[Interface]\nTable = nosuch\n", want: "table `nosuch'"},
		"no dns": {cfg: "[Interface]\nDNS = 10.0.0.53\n", prep: func(_ *fakeSystem, e *Env) {
			e.DNS.LookPath = func(string) (string, bool) { return "", false }
		}, want: dns.ErrNoResolver.Error()},
		"no firewall": {cfg: fullTunnel, prep: func(f *fakeSystem, _ *Env) {
			f.backendErr = errors.New("no firewall for the full-tunnel rules")
		}, want: "no firewall for the full-tunnel rules"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeSystem()
			rec := &sysexec.Recorder{}
			var stderr bytes.Buffer
			e := newEnv(t, f, rec, &stderr)
			if tt.prep != nil {
				tt.prep(f, e)
			}
			before := f.String()
			err := e.Up(context.Background(), "wg0", parse(t, tt.cfg))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if f.String() != before || stderr.Len() != 0 || len(rec.Cmds) != 0 {
				t.Errorf("preflight failure changed something: %s %v", stderr.String(), rec.Cmds)
			}
		})
	}
}

func Test_sortRoutes(t *testing.T) {
	var ps []netip.Prefix
	for _, s := range []string{"0.0.0.0/0", "10.0.0.0/8", "::/0", "10.1.0.0/16", "fd00::/64", "172.16.0.0/12", "10.0.0.1/32"} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	sortRoutes(ps)
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	// `sort -nr -k 2 -t /`: longest first; ties reverse byte order (::/0
	// before 0.0.0.0/0, as observed with wg-quick).
	want := []string{"fd00::/64", "10.0.0.1/32", "10.1.0.0/16", "172.16.0.0/12", "10.0.0.0/8", "::/0", "0.0.0.0/0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// TestDownAfterDeviceKilled: the userspace device died (SIGKILL) and took
// its link along; down must still remove the rules, firewall and DNS that
// up recorded, instead of refusing as wg-quick does.
func TestDownAfterDeviceKilled(t *testing.T) {
	f := newFakeSystem()
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	before := f.String()
	cfg := parse(t, fullTunnel)
	if err := e.Up(context.Background(), "wg0", cfg); err != nil {
		t.Fatal(err)
	}
	f.DeleteLink("wg0") // the daemon is gone, and its TUN with it
	if err := e.Down(context.Background(), "wg0", cfg, ""); err != nil {
		t.Fatalf("down after the device died: %v", err)
	}
	want := strings.Replace(before, "src_valid_mark:0", "src_valid_mark:1", 1)
	if diff := cmp.Diff(want, f.String()); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	if !slices.Contains(rec.Cmds, "resolvconf -d wg0 -f") {
		t.Errorf("DNS not removed: %v", rec.Cmds)
	}
	// Without a journal, a missing interface is still the reference's error.
	if err := e.Down(context.Background(), "wg0", cfg, ""); err == nil || !strings.Contains(err.Error(), "is not a WireGuard interface") {
		t.Errorf("second down: %v", err)
	}
}

// TestUpCleansStaleJournal: up after the device died without a down first
// removes what the earlier up left, so rules do not pile up.
func TestUpCleansStaleJournal(t *testing.T) {
	f := newFakeSystem()
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	cfg := parse(t, fullTunnel)
	if err := e.Up(context.Background(), "wg0", cfg); err != nil {
		t.Fatal(err)
	}
	first := f.String()
	f.DeleteLink("wg0")
	if err := e.Up(context.Background(), "wg0", cfg); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, f.String()); diff != "" {
		t.Errorf("second up differs from the first (rules piled up?) (-first +second):\n%s", diff)
	}
}
