package config_test

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/save")

// autoMark stands for the fwmark wg-quick picks for a full tunnel.
const autoMark = 51820

// pickedPort stands for the port a device picks when the file gives none.
const pickedPort = 43210

// liveOf is what a device and its link hold after `wg-quick up` of a file:
// its peers merged, names resolved to 192.0.2.99, a random port when the
// file gives none, the full tunnel's fwmark when a peer routes a /0.
func liveOf(t *testing.T, data []byte) *config.Config {
	t.Helper()
	c, err := config.ParseQuick(data, config.Options{File: "x.conf"})
	if err != nil {
		t.Fatal(err)
	}
	merged, err := config.MergePeers(c)
	if err != nil {
		t.Fatal(err)
	}
	fi := &c.Interface
	li := config.Interface{PrivateKey: fi.PrivateKey, Addresses: slices.Clone(fi.Addresses), DNS: slices.Clone(fi.DNS), MTU: fi.MTU}
	port := pickedPort
	if fi.ListenPort != nil && *fi.ListenPort != 0 {
		port = *fi.ListenPort
	}
	li.ListenPort = &port
	mark := uint32(0)
	if fi.FwMark != nil {
		mark = *fi.FwMark
	}
	live := &config.Config{Interface: li}
	for _, m := range merged {
		p := config.Peer{PublicKey: m.Key}
		psk, ka := m.PSK, m.Keepalive
		p.PresharedKey, p.PersistentKeepalive = &psk, &ka
		if e := m.Endpoint; e != nil {
			ep := *e
			if !ep.Addr.IsValid() {
				ep.Host, ep.Addr = "192.0.2.99", netip.MustParseAddr("192.0.2.99")
			}
			p.Endpoint = &ep
		}
		for _, a := range m.AllowedIPs {
			p.AllowedIPs = append(p.AllowedIPs, config.AllowedIP{Prefix: a})
			if a.Bits() == 0 && mark == 0 && fi.FwMark == nil {
				mark = autoMark
			}
		}
		live.Peers = append(live.Peers, p)
	}
	live.Interface.FwMark = &mark
	return live
}

func mustKey(s string) wgtypes.Key {
	k, err := wgtypes.ParseKey(s)
	if err != nil {
		panic(err)
	}
	return k
}

// The runtime changes each file of testdata/save is saved under.
var saveChanges = []struct {
	name   string
	change func(l *config.Config)
}{
	{"peer-added", func(l *config.Config) {
		ka := 25
		l.Peers = append(l.Peers, config.Peer{
			PublicKey:           mustKey("Gh2NXpK+4jZba0dikMVvSZpGLM3W8/TPAuaN5R3vYkQ="),
			Endpoint:            &config.Endpoint{Host: "198.51.100.9", Port: 51820, Addr: netip.MustParseAddr("198.51.100.9")},
			PersistentKeepalive: &ka,
			AllowedIPs:          []config.AllowedIP{{Prefix: netip.MustParsePrefix("10.9.9.9/32")}},
		})
	}},
	{"peer-removed", func(l *config.Config) { l.Peers = l.Peers[1:] }},
	{"last-peer-removed", func(l *config.Config) { l.Peers = l.Peers[:len(l.Peers)-1] }},
	{"endpoint-roamed", func(l *config.Config) {
		for i := range l.Peers {
			l.Peers[i].Endpoint = &config.Endpoint{Host: "203.0.113.77", Port: 4444, Addr: netip.MustParseAddr("203.0.113.77")}
		}
	}},
	{"allowed-ips-changed", func(l *config.Config) {
		p := &l.Peers[0]
		p.AllowedIPs = append(p.AllowedIPs[1:len(p.AllowedIPs):len(p.AllowedIPs)], config.AllowedIP{Prefix: netip.MustParsePrefix("10.77.0.0/16")})
	}},
	{"address-added", func(l *config.Config) {
		l.Interface.Addresses = append(slices.Clone(l.Interface.Addresses), netip.MustParsePrefix("10.200.0.1/24"), netip.MustParsePrefix("fe80::1234/64"))
	}},
	{"dns-mtu-changed", func(l *config.Config) {
		dns := []netip.Addr{netip.MustParseAddr("10.9.9.53")}
		if len(l.Interface.DNS) > 1 {
			dns = append(dns, l.Interface.DNS[1:]...)
		}
		l.Interface.DNS = dns
		if l.Interface.MTU != 0 {
			l.Interface.MTU = 1400
		}
	}},
	{"port-key-keepalive", func(l *config.Config) {
		port, ka := 51999, 0
		k := mustKey("yH67rCjI5R1qDRXJrZ26mPuL/8zitJi1CLcCahow+nI=")
		l.Interface.ListenPort, l.Interface.PrivateKey = &port, &k
		for i := range l.Peers {
			l.Peers[i].PersistentKeepalive = &ka
		}
		if len(l.Peers) > 0 {
			ka := 15
			l.Peers[0].PersistentKeepalive = &ka
		}
	}},
}

// TestEditGolden saves each hand-written file of testdata/save under each
// runtime change and compares the result with the file's golden; the
// secrets in the goldens are test keys. Every result must also describe
// the changed interface (checkDescribes), and an unchanged interface must
// give back the file byte for byte.
func TestEditGolden(t *testing.T) {
	files, err := filepath.Glob("../../testdata/save/*.conf")
	if err != nil || len(files) < 8 {
		t.Fatalf("testdata/save: %d files, %v", len(files), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".conf")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			same, err := config.Edit(data, liveOf(t, data), config.EditOptions{AutoFwMark: autoMark})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(same, data) {
				t.Errorf("unchanged interface: file changed:\n%s", same)
			}
			var golden bytes.Buffer
			for _, c := range saveChanges {
				live := liveOf(t, data)
				c.change(live)
				out, err := config.Edit(data, live, config.EditOptions{AutoFwMark: autoMark})
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				checkDescribes(t, c.name, data, out, live)
				golden.WriteString("##### " + c.name + "\n")
				golden.Write(out)
				if !bytes.HasSuffix(out, []byte("\n")) {
					golden.WriteString("\n##### (no newline at the end)\n")
				}
			}
			path := strings.TrimSuffix(file, ".conf") + ".golden"
			if *update {
				if err := os.WriteFile(path, golden.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestEditGolden -update)", err)
			}
			if !bytes.Equal(golden.Bytes(), want) {
				t.Errorf("differs from %s (go test -run TestEditGolden -update, then read the diff):\n%s", path, golden.Bytes())
			}
		})
	}
}

// checkDescribes checks that a saved file, brought up again, gives the
// interface it was saved from, within what Edit leaves out by design
// (a random port, a learnt or named endpoint, link-local addresses), and
// that every comment of the old file that is not in a removed peer's
// section is still there.
func checkDescribes(t *testing.T, change string, old, saved []byte, want *config.Config) {
	t.Helper()
	got := liveOf(t, saved)
	wi, gi := &want.Interface, &got.Interface
	if !samePtrKey(wi.PrivateKey, gi.PrivateKey) {
		t.Errorf("%s: private key not saved", change)
	}
	if *gi.ListenPort != pickedPort && *wi.ListenPort != *gi.ListenPort {
		t.Errorf("%s: listen port %d, want %d", change, *gi.ListenPort, *wi.ListenPort)
	}
	var wantAddrs []netip.Prefix
	for _, a := range wi.Addresses {
		if !a.Addr().IsLinkLocalUnicast() {
			wantAddrs = append(wantAddrs, a)
		}
	}
	if !sameSet(wantAddrs, gi.Addresses) {
		t.Errorf("%s: addresses %v, want %v", change, gi.Addresses, wantAddrs)
	}
	if !sameSet(wi.DNS, gi.DNS) {
		t.Errorf("%s: DNS %v, want %v", change, gi.DNS, wi.DNS)
	}
	if len(got.Peers) != len(want.Peers) {
		t.Fatalf("%s: %d peers, want %d:\n%s", change, len(got.Peers), len(want.Peers), saved)
	}
	for _, w := range want.Peers {
		i := slices.IndexFunc(got.Peers, func(p config.Peer) bool { return p.PublicKey == w.PublicKey })
		if i < 0 {
			t.Errorf("%s: peer %s missing", change, w.PublicKey)
			continue
		}
		g := got.Peers[i]
		if val(g.PresharedKey) != val(w.PresharedKey) || val(g.PersistentKeepalive) != val(w.PersistentKeepalive) {
			t.Errorf("%s: peer %s: psk or keepalive differ", change, w.PublicKey)
		}
		if !sameSet(allowed(g), allowed(w)) {
			t.Errorf("%s: peer %s: allowed IPs %v, want %v", change, w.PublicKey, allowed(g), allowed(w))
		}
		named := g.Endpoint != nil && g.Endpoint.Host == "192.0.2.99"
		if g.Endpoint != nil && !named && w.Endpoint != nil && g.Endpoint.String() != w.Endpoint.String() {
			t.Errorf("%s: peer %s: endpoint %s, want %s", change, w.PublicKey, g.Endpoint, w.Endpoint)
		}
	}
	removed := map[string]bool{}
	for _, l := range strings.Split(string(old), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") && !bytes.Contains(saved, []byte(l)) {
			removed[l] = true
		}
	}
	if len(removed) > 0 && !strings.Contains(change, "removed") {
		t.Errorf("%s: comments lost: %v", change, removed)
	}
}

func val[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func samePtrKey(a, b *wgtypes.Key) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func allowed(p config.Peer) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range p.AllowedIPs {
		out = append(out, a.Prefix.Masked())
	}
	return out
}

func sameSet[T comparable](a, b []T) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

// TestEditCorpusRoundTrip: for every file of testdata/conf that up
// accepts, saving the interface it gives changes no byte.
func TestEditCorpusRoundTrip(t *testing.T) {
	n := 0
	eachCorpusFile(t, func(t *testing.T, dir string, data []byte) {
		if dir == "invalid" {
			return
		}
		c, err := config.ParseQuick(data, config.Options{File: "x.conf"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := config.MergePeers(c); err != nil {
			return // a `-` entry: up refuses it on a fresh device
		}
		out, err := config.Edit(data, liveOf(t, data), config.EditOptions{AutoFwMark: autoMark})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data) {
			t.Errorf("changed:\n%q\nwant\n%q", out, data)
		}
		n++
	})
	if n < 50 {
		t.Errorf("only %d files round-tripped", n)
	}
}

func TestRedactSecrets(t *testing.T) {
	data, err := os.ReadFile("../../testdata/save/hooks.conf")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, "# the old key: yH67rCjI5R1qDRXJrZ26mPuL/8zitJi1CLcCahow+nI=\nPostUp = wg set %i private-key <(echo QGNj4MnaewQIeMqKntGMIcVy+V49PYJVHTRj8/VFM3k=)\n"+
		"[Peer]\nPublicKey = m1kzOwhqRrfOwgXfUZLJNgzc1miNtA6H4Uu5OxYlDD4= # was UBYyDWkV/Ta+rl3o3tbnhticJZNeiAbGDoYYTvP/y00=\n"...)
	out := string(config.RedactSecrets(data))
	for _, secret := range []string{"WI1rHcprnIjxfq8+CWIpH7U5e5SaaQZqMFnFLys7nFQ=", "SpxWRnMVQ2HTYtlOakEyGHHpwJUdg5PiKgVpsNavzAs=", "yH67rCjI5R1q", "QGNj4Mnaew", "UBYyDWkV"} {
		if strings.Contains(out, secret) {
			t.Errorf("secret %s shown", secret[:4])
		}
	}
	if !strings.Contains(out, "PrivateKey = (hidden)\n") || !strings.Contains(out, "m1kzOwhqRrfOwgXfUZLJNgzc1miNtA6H4Uu5OxYlDD4=") {
		t.Errorf("redacted:\n%s", out)
	}
}

// TestEditReplacedSection: a peer's later section replaces the AllowedIPs
// of its earlier one, so an entry kept in the earlier one is not enough;
// the peer then gets one line with its whole list.
func TestEditReplacedSection(t *testing.T) {
	data := []byte(`[Interface]
PrivateKey = WI1rHcprnIjxfq8+CWIpH7U5e5SaaQZqMFnFLys7nFQ=

[Peer]
PublicKey = m1kzOwhqRrfOwgXfUZLJNgzc1miNtA6H4Uu5OxYlDD4=
AllowedIPs = 10.1.0.0/24

# again
[Peer]
PublicKey = m1kzOwhqRrfOwgXfUZLJNgzc1miNtA6H4Uu5OxYlDD4=
AllowedIPs = 10.2.0.0/24
`)
	live := liveOf(t, data)
	if got := allowed(live.Peers[0]); len(got) != 1 {
		t.Fatalf("the device holds %v, want only the second section's", got)
	}
	live.Peers[0].AllowedIPs = append(live.Peers[0].AllowedIPs, config.AllowedIP{Prefix: netip.MustParsePrefix("10.1.0.0/24")})
	out, err := config.Edit(data, live, config.EditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(strings.Replace(string(data), "AllowedIPs = 10.1.0.0/24\n", "", 1), "AllowedIPs = 10.2.0.0/24\n", "AllowedIPs = 10.2.0.0/24, 10.1.0.0/24\n", 1)
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	checkDescribes(t, "replaced", data, out, live)
}

// FuzzEdit checks, for any file up accepts, that saving an unchanged
// interface changes no byte and that saving it under each runtime change
// of TestEditGolden gives a file that describes the changed interface.
func FuzzEdit(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/save/*.conf")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.ParseQuick(data, config.Options{File: "x.conf"})
		if err != nil {
			return
		}
		if _, err := config.MergePeers(c); err != nil {
			return
		}
		out, err := config.Edit(data, liveOf(t, data), config.EditOptions{AutoFwMark: autoMark})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("unchanged interface, changed file:\n%q\n%q", data, out)
		}
		for _, ch := range saveChanges {
			live := liveOf(t, data)
			if len(live.Peers) == 0 || len(live.Peers[0].AllowedIPs) == 0 {
				continue
			}
			ch.change(live)
			out, err := config.Edit(data, live, config.EditOptions{AutoFwMark: autoMark})
			if err != nil {
				t.Fatalf("%s: %v", ch.name, err)
			}
			checkDescribes(t, ch.name, data, out, live)
		}
	})
}
