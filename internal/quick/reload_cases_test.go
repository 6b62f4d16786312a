package quick

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/dns"
	"github.com/wgtools/wgtools/internal/sysexec"
)

// fakeResolver answers host names from a map.
type fakeResolver map[string][]netip.Addr

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// fakeResolvconf is resolvconf(8) with its records in memory. The failAt-th
// `resolvconf -a` fails.
type fakeResolvconf struct {
	records map[string]string
	adds    int
	failAt  int
}

func (r *fakeResolvconf) Run(_ context.Context, c sysexec.Cmd) error {
	if c.Name != "resolvconf" || len(c.Args) < 2 {
		return fmt.Errorf("unexpected command %s", c)
	}
	switch c.Args[0] {
	case "-a":
		r.adds++
		if r.adds == r.failAt {
			return &sysexec.ExitError{Cmd: c.String(), Code: 1}
		}
		var b bytes.Buffer
		if c.Stdin != nil {
			io.Copy(&b, c.Stdin)
		}
		r.records[c.Args[1]] = b.String()
	case "-d":
		delete(r.records, c.Args[1])
	}
	return nil
}

// reloadEnv is an Env over a fake system, a fake resolvconf and a fake
// resolver; hooks is what the hooks ran.
type reloadEnv struct {
	*Env
	f      *fakeSystem
	rc     *fakeResolvconf
	hooks  *sysexec.Recorder
	stderr *bytes.Buffer
}

var testNames = fakeResolver{
	"vpn.example.com":   {netip.MustParseAddr("198.51.100.7")},
	"other.example.com": {netip.MustParseAddr("198.51.100.8")},
}

func newReloadEnv(t *testing.T) *reloadEnv {
	t.Helper()
	r := &reloadEnv{f: newFakeSystem(), rc: &fakeResolvconf{records: map[string]string{}}, hooks: &sysexec.Recorder{}, stderr: &bytes.Buffer{}}
	r.Env = newEnv(t, r.f, r.hooks, r.stderr)
	d := dns.New(r.rc)
	d.LookPath, d.InterfaceOrder = r.Env.DNS.LookPath, r.Env.DNS.InterfaceOrder
	r.Env.DNS = d
	r.Env.Resolver = testNames
	return r
}

// state renders the fake system in an order-independent way: addresses,
// routes, rules, peers and allowed IPs sorted (their order legitimately
// differs between a fresh up and a reload), rule priorities kept only if
// prio, the device in full, and the DNS records.
func (r *reloadEnv) state(prio bool) string {
	f := r.f
	var b strings.Builder
	for _, n := range sortedKeys(f.links) {
		l := f.links[n]
		addrs := slices.Clone(l.addrs)
		slices.SortFunc(addrs, func(a, b netip.Prefix) int { return strings.Compare(a.String(), b.String()) })
		fmt.Fprintf(&b, "link %s mtu %d up %v addrs %v\n", n, l.mtu, l.up, addrs)
	}
	for _, t := range sortedKeys(f.routes) {
		rs := slices.Clone(f.routes[t])
		slices.Sort(rs)
		fmt.Fprintf(&b, "table %d: %v\n", t, rs)
	}
	var rules []string
	for _, x := range f.rules {
		if !prio {
			x.Priority = 0
		}
		rules = append(rules, fmt.Sprintf("rule %d %d: %s", x.Family, x.Priority, x))
	}
	slices.Sort(rules)
	for _, x := range rules {
		fmt.Fprintln(&b, x)
	}
	for _, n := range sortedKeys(f.nft) {
		fmt.Fprintf(&b, "nft %s\n", n)
	}
	fmt.Fprintf(&b, "sysctl %v\n", f.sysctl)
	for _, n := range sortedKeys(f.devices) {
		d := f.devices[n]
		fmt.Fprintf(&b, "device %s pub %s port %d fwmark %d\n", n, d.PublicKey, d.ListenPort, d.FirewallMark)
		var peers []string
		for _, p := range d.Peers {
			var ips []string
			for _, n := range p.AllowedIPs {
				ips = append(ips, n.String())
			}
			slices.Sort(ips)
			ep := "none"
			if p.Endpoint != nil {
				ep = p.Endpoint.String()
			}
			peers = append(peers, fmt.Sprintf("  peer %s psk %s endpoint %s keepalive %v allowed %v", p.PublicKey, p.PresharedKey, ep, p.PersistentKeepaliveInterval, ips))
		}
		slices.Sort(peers)
		for _, p := range peers {
			fmt.Fprintln(&b, p)
		}
	}
	for _, rec := range sortedKeys(r.rc.records) {
		fmt.Fprintf(&b, "resolvconf %s: %q\n", rec, r.rc.records[rec])
	}
	return b.String()
}

func (r *reloadEnv) journal(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(journalPath(r.StateDir, "wg0"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// applied reads the journal's baseline with the routes sorted, as JSON.
func (r *reloadEnv) applied(t *testing.T) string {
	t.Helper()
	j, err := loadJournal(r.StateDir, "wg0")
	if err != nil || j == nil || j.Applied == nil {
		t.Fatalf("journal: %v, %+v", err, j)
	}
	slices.SortFunc(j.Applied.Routes, func(a, b AppliedRoute) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	b, err := json.MarshalIndent(j.Applied, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// touched lists the peers the device was sent anything about.
func (r *reloadEnv) touched() []string {
	var out []string
	for _, c := range r.f.configs {
		for _, p := range c.Peers {
			if name := keyName[p.PublicKey]; !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

func testKey(b byte) wgtypes.Key {
	var k wgtypes.Key
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

var (
	keyA, keyB, keyC = testKey(0xa0), testKey(0xb0), testKey(0xc0)
	keyName          = map[wgtypes.Key]string{keyA: "A", keyB: "B", keyC: "C"}
	testKeys         = strings.NewReplacer(
		"<A>", keyA.String(), "<B>", keyB.String(), "<C>", keyC.String(),
		"<PRIV1>", testKey(0x10).String(), "<PRIV2>", testKey(0x20).String(),
		"<PSK1>", testKey(0x30).String(), "<PSK2>", testKey(0x40).String(),
	)
)

// reloadBase is the "before" of most cases: a split tunnel with two peers,
// one of them behind a host name.
const reloadBase = reloadIface + reloadPeerA + reloadPeerB

const reloadIface = `[Interface]
PrivateKey = <PRIV1>
ListenPort = 51820
Address = 10.0.0.2/24
PostUp = echo post %i
`

const reloadPeerA = `
[Peer]
PublicKey = <A>
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.1.0.0/16
`

const reloadPeerB = `
[Peer]
PublicKey = <B>
PresharedKey = <PSK1>
Endpoint = vpn.example.com:51820
PersistentKeepalive = 25
AllowedIPs = 10.2.0.0/16, 10.3.0.1/32
`

// edit applies line edits to a configuration: "-LINE" deletes the first
// line equal to LINE, "LINE=>NEW" replaces it (NEW may hold \n), and
// "+[Peer]..." appends.
func edit(text string, edits ...string) string {
	for _, e := range edits {
		switch {
		case strings.HasPrefix(e, "+"):
			text += "\n" + e[1:] + "\n"
		case strings.HasPrefix(e, "-"):
			if !strings.Contains(text, e[1:]+"\n") {
				panic("no line " + e[1:])
			}
			text = strings.Replace(text, e[1:]+"\n", "", 1)
		default:
			old, new, _ := strings.Cut(e, "=>")
			if !strings.Contains(text, old+"\n") {
				panic("no line " + old)
			}
			text = strings.Replace(text, old+"\n", new+"\n", 1)
		}
	}
	return text
}

const peerC = "+[Peer]\nPublicKey = <C>\nAllowedIPs = 10.4.0.0/16"

// reloadCases are before/after pairs. touched names the peers reload may
// send anything about (in the direction before → after); every other
// peer must get nothing.
var reloadCases = []struct {
	name          string
	before, after string
	touched       []string
}{
	{name: "nothing changed", before: reloadBase, after: reloadBase},
	{name: "nothing changed, fwmark and table off", before: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nTable = off\nFwMark = 0x77"), after: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nTable = off\nFwMark = 0x77")},
	{name: "fwmark removed", before: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nFwMark = 0x77"), after: reloadBase},
	{name: "peer added", before: reloadBase, after: edit(reloadBase, peerC), touched: []string{"C"}},
	{name: "peer removed", before: reloadBase, after: reloadIface + reloadPeerA, touched: []string{"B"}},
	{name: "peer key changed", before: reloadBase, after: edit(reloadBase, "PublicKey = <B>=>PublicKey = <C>"), touched: []string{"B", "C"}},
	{name: "allowed IPs changed", before: reloadBase, after: edit(reloadBase, "AllowedIPs = 10.1.0.0/16=>AllowedIPs = 10.1.0.0/16, 10.5.0.0/24, fd05::/64"), touched: []string{"A"}},
	{name: "prefix moved to a new peer", before: reloadBase, after: edit(reloadBase, "+[Peer]\nPublicKey = <C>\nAllowedIPs = 10.2.0.0/16"), touched: []string{"C"}},
	{name: "prefix moved, then more", before: reloadBase, after: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24, 10.9.0.2/24", "+[Peer]\nPublicKey = <C>\nAllowedIPs = 10.2.0.0/16"), touched: []string{"C"}},
	{name: "prefix taken by a changed peer", before: reloadBase, after: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nMTU = 1300", "+[Peer]\nPublicKey = <A>\nAllowedIPs = 10.1.0.0/16, 10.2.0.0/16"), touched: []string{"A"}},
	{name: "endpoint changed", before: reloadBase, after: edit(reloadBase, "Endpoint = 192.0.2.1:51820=>Endpoint = 192.0.2.9:51821"), touched: []string{"A"}},
	{name: "endpoint name changed", before: reloadBase, after: edit(reloadBase, "Endpoint = vpn.example.com:51820=>Endpoint = other.example.com:51820"), touched: []string{"B"}},
	{name: "endpoint removed", before: reloadBase, after: edit(reloadBase, "-Endpoint = 192.0.2.1:51820"), touched: []string{"A"}},
	{name: "PSK removed", before: reloadBase, after: edit(reloadBase, "-PresharedKey = <PSK1>"), touched: []string{"B"}},
	{name: "PSK changed", before: reloadBase, after: edit(reloadBase, "PresharedKey = <PSK1>=>PresharedKey = <PSK2>"), touched: []string{"B"}},
	{name: "keepalive removed", before: reloadBase, after: edit(reloadBase, "-PersistentKeepalive = 25"), touched: []string{"B"}},
	{name: "duplicate section", before: reloadBase, after: edit(reloadBase, "+[Peer]\nPublicKey = <A>\nAllowedIPs = 10.6.0.0/16"), touched: []string{"A"}},
	{name: "interface key and port", before: reloadBase, after: edit(reloadBase, "PrivateKey = <PRIV1>=>PrivateKey = <PRIV2>", "ListenPort = 51820=>ListenPort = 51821")},
	{name: "port removed", before: reloadBase, after: edit(reloadBase, "-ListenPort = 51820")},
	{name: "address added", before: reloadBase, after: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24, fd00::2/64")},
	{name: "address changed", before: reloadBase, after: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.3/16")},
	{name: "table number", before: reloadBase, after: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nTable = 1234")},
	{name: "table off", before: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nTable = 1234"), after: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nTable = off")},
	{name: "table name", before: reloadBase, after: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nTable = vpn")},
	{name: "full tunnel", before: reloadBase, after: edit(reloadBase, "AllowedIPs = 10.1.0.0/16=>AllowedIPs = 0.0.0.0/0, ::/0"), touched: []string{"A"}},
	{name: "full tunnel IPv6 dropped", before: edit(reloadBase, "AllowedIPs = 10.1.0.0/16=>AllowedIPs = 0.0.0.0/0, ::/0"), after: edit(reloadBase, "AllowedIPs = 10.1.0.0/16=>AllowedIPs = 0.0.0.0/0"), touched: []string{"A"}},
	{name: "full tunnel addresses", before: edit(reloadBase, "AllowedIPs = 10.1.0.0/16=>AllowedIPs = 0.0.0.0/0, ::/0"), after: edit(reloadBase, "AllowedIPs = 10.1.0.0/16=>AllowedIPs = 0.0.0.0/0, ::/0", "Address = 10.0.0.2/24=>Address = 10.0.0.7/24, fd00::7/64")},
	{name: "full tunnel fwmark", before: edit(reloadBase, "AllowedIPs = 10.1.0.0/16=>AllowedIPs = 0.0.0.0/0, ::/0"), after: edit(reloadBase, "AllowedIPs = 10.1.0.0/16=>AllowedIPs = 0.0.0.0/0, ::/0", "ListenPort = 51820=>ListenPort = 51820\nFwMark = 0x1234")},
	{name: "full tunnel to table", before: edit(reloadBase, "AllowedIPs = 10.1.0.0/16=>AllowedIPs = 0.0.0.0/0, ::/0"), after: edit(reloadBase, "AllowedIPs = 10.1.0.0/16=>AllowedIPs = 0.0.0.0/0, ::/0", "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nTable = 1234")},
	{name: "DNS added", before: reloadBase, after: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nDNS = 10.0.0.53, example.com")},
	{name: "DNS changed", before: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nDNS = 10.0.0.53, example.com"), after: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nDNS = 10.0.0.54, example.org")},
	{name: "MTU set", before: reloadBase, after: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nMTU = 1380")},
	{name: "MTU recomputed", before: reloadBase, after: edit(reloadBase, "-Endpoint = 192.0.2.1:51820", "-Endpoint = vpn.example.com:51820"), touched: []string{"A", "B"}},
	{name: "everything", before: edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nDNS = 10.0.0.53"),
		after: edit(reloadBase, "PrivateKey = <PRIV1>=>PrivateKey = <PRIV2>", "Address = 10.0.0.2/24=>Address = 10.0.0.3/24, fd00::3/64\nDNS = 10.0.0.54\nMTU = 1400",
			"AllowedIPs = 10.1.0.0/16=>AllowedIPs = 0.0.0.0/0, ::/0", "PublicKey = <B>=>PublicKey = <C>"), touched: []string{"A", "B", "C"}},
}
