package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/nettest"
)

// TestReloadGrammar: reload and syncconf take CONFIG or --dry-run CONFIG,
// reresolve takes CONFIG; anything else prints the usage and fails.
func TestReloadGrammar(t *testing.T) {
	usage := ourQuick().Stderr
	missing := filepath.Join(t.TempDir(), "wgnosuch0.conf")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"reload"}, usage},
		{[]string{"reload", "--dry-run"}, usage},
		{[]string{"reload", "a", "b"}, usage},
		{[]string{"reload", "--dry-run", "a", "b"}, usage},
		{[]string{"reload", "--bogus", missing}, usage},
		{[]string{"syncconf"}, usage},
		{[]string{"reresolve"}, usage},
		{[]string{"reresolve", "--dry-run", missing}, usage},
		{[]string{"reload", missing}, "wg-quick: `" + missing + "' does not exist\n"},
		{[]string{"reload", "--dry-run", missing}, "wg-quick: `" + missing + "' does not exist\n"},
		{[]string{"syncconf", "--dry-run", missing}, "wg-quick: `" + missing + "' does not exist\n"},
		{[]string{"reresolve", missing}, "wg-quick: `" + missing + "' does not exist\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			got := ourQuick(tt.args...)
			if diff := cmp.Diff(cliResult{Stderr: tt.want, Code: 1}, got); diff != "" {
				t.Errorf("wg-quick %q (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

// TestReloadEndToEnd brings a tunnel up between two namespaces with our
// wg-quick, edits one side's file (a second peer that also takes over a
// prefix from the first, an address, an MTU) and reloads it: the new
// state is in place, the untouched peer's session survives (same latest
// handshake, counters not reset, traffic flowing without a new handshake),
// and down still leaves the namespace as it was.
func TestReloadEndToEnd(t *testing.T) {
	s := newScenario(t)
	alpha, beta := s.newNode("alpha"), s.newNode("beta")
	nettest.Veth(t, alpha.ns, "veth0", "192.168.77.1/24", beta.ns, "veth1", "192.168.77.2/24")
	ka, kb, kc := s.genKeyPair(), s.genKeyPair(), s.genKeyPair()

	alphaConf := fmt.Sprintf(`[Interface]
PrivateKey = %s
ListenPort = 51820
Address = 10.70.0.1/24

[Peer]
PublicKey = %s
Endpoint = 192.168.77.2:51820
AllowedIPs = 10.70.0.2/32, 10.73.0.0/24
`, ka.private, kb.public)
	alpha.configure("rla", alphaConf)
	beta.configure("rlb", fmt.Sprintf(`[Interface]
PrivateKey = %s
ListenPort = 51820
Address = 10.70.0.2/24

[Peer]
PublicKey = %s
AllowedIPs = 10.70.0.1/32
`, kb.private, ka.public))
	before := alpha.netState()
	alpha.wgQuickUp()
	beta.wgQuickUp()
	alpha.mustReach("10.70.0.2")
	alpha.waitHandshakes(map[string]string{"beta": kb.public})
	handshake := alpha.wgShow("latest-handshakes")[kb.public]
	rx, tx := alpha.transfer(kb.public)
	if diff := cmp.Diff([]string{"10.70.0.0/24 proto kernel scope link src 10.70.0.1", "10.73.0.0/24 scope link"}, alpha.routes(alpha.iface)); diff != "" {
		t.Fatalf("routes after up (-want +got):\n%s", diff)
	}

	// beta keeps 10.70.0.2/32; the second peer takes 10.73.0.0/24 over
	// and brings 10.71.0.0/24; an address and an MTU are added.
	edited := strings.Replace(alphaConf, "Address = 10.70.0.1/24\n", "Address = 10.70.0.1/24, 10.72.0.1/24\nMTU = 1380\n", 1)
	edited = strings.Replace(edited, "AllowedIPs = 10.70.0.2/32, 10.73.0.0/24\n", "AllowedIPs = 10.70.0.2/32\n", 1)
	edited += fmt.Sprintf("\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.71.0.0/24, 10.73.0.0/24\n", kc.public)
	if err := os.WriteFile(alpha.conf, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}

	// The dry run prints the plan and changes nothing.
	state, showconf := alpha.netState()+alpha.ip("address", "show", "dev", alpha.iface), alpha.run(s.wg, "showconf", alpha.iface)
	path := "PATH=" + alpha.dir + ":" + os.Getenv("PATH")
	plan, err := alpha.exec([]string{path}, s.wgQuick, "syncconf", "--dry-run", alpha.conf)
	if err != nil {
		t.Fatalf("wg-quick syncconf --dry-run: %v\n%s", err, plan)
	}
	if got := alpha.netState() + alpha.ip("address", "show", "dev", alpha.iface); got != state {
		t.Errorf("the dry run changed the namespace:\n%s", cmp.Diff(state, got))
	}
	if got := alpha.run(s.wg, "showconf", alpha.iface); got != showconf {
		t.Errorf("the dry run changed the device:\n%s", cmp.Diff(showconf, got))
	}

	out, err := alpha.wgQuick("reload")
	if err != nil {
		t.Fatalf("wg-quick reload: %v\n%s", err, out)
	}
	t.Logf("wg-quick reload:\n%s", out)
	if out != plan {
		t.Errorf("the dry run's plan differs from what reload did (-plan +reload):\n%s", cmp.Diff(plan, out))
	}
	want := fmt.Sprintf(`[#] wg set %[1]s peer %[2]s allowed-ips 10.71.0.0/24,10.73.0.0/24
[#] ip -4 address add 10.72.0.1/24 dev %[1]s
[#] ip link set mtu 1380 up dev %[1]s
[#] ip -4 route add 10.71.0.0/24 dev %[1]s
`, alpha.iface, kc.public)
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("wg-quick reload printed (-want +got):\n%s", diff)
	}

	// The new state.
	wantRoutes := []string{
		"10.70.0.0/24 proto kernel scope link src 10.70.0.1",
		"10.71.0.0/24 scope link",
		"10.72.0.0/24 proto kernel scope link src 10.72.0.1",
		"10.73.0.0/24 scope link",
	}
	if diff := cmp.Diff(wantRoutes, alpha.routes(alpha.iface)); diff != "" {
		t.Errorf("routes after reload (-want +got):\n%s", diff)
	}
	addrs := alpha.ip("-4", "-brief", "address", "show", "dev", alpha.iface)
	if f := strings.Fields(addrs); len(f) != 4 || f[2] != "10.70.0.1/24" || f[3] != "10.72.0.1/24" {
		t.Errorf("addresses after reload: %q", addrs)
	}
	if link := alpha.ip("link", "show", "dev", alpha.iface); !strings.Contains(link, " mtu 1380 ") {
		t.Errorf("MTU after reload:\n%s", link)
	}
	allowed := alpha.wgShow("allowed-ips")
	if allowed[kb.public] != "10.70.0.2/32" || len(strings.Fields(allowed[kc.public])) != 2 {
		t.Errorf("allowed IPs after reload: %v", allowed)
	}

	// beta's session survived: nothing was sent about it.
	if got := alpha.wgShow("latest-handshakes")[kb.public]; got != handshake {
		t.Errorf("beta's latest handshake changed across reload: %s → %s", handshake, got)
	}
	if rx2, tx2 := alpha.transfer(kb.public); rx2 < rx || tx2 < tx {
		t.Errorf("beta's transfer counters went back across reload: %d/%d → %d/%d", rx, tx, rx2, tx2)
	}
	alpha.mustReach("10.70.0.2")
	if got := alpha.wgShow("latest-handshakes")[kb.public]; got != handshake {
		t.Errorf("traffic after reload needed a new handshake: %s → %s", handshake, got)
	}
	if rx2, tx2 := alpha.transfer(kb.public); rx2 <= rx || tx2 <= tx {
		t.Errorf("beta's counters did not grow after reload: %d/%d → %d/%d", rx, tx, rx2, tx2)
	}

	// Reloading the same file again changes nothing.
	if out, err := alpha.wgQuick("reload"); err != nil || out != "" {
		t.Errorf("second reload: %v\n%s", err, out)
	}
	// Reresolve has nothing to do: the endpoint is an IP literal.
	if out, err := alpha.wgQuick("reresolve"); err != nil || out != "" {
		t.Errorf("reresolve: %v\n%s", err, out)
	}

	beta.wgQuickDown()
	alpha.wgQuickDown()
	alpha.checkDown(before)
}

// transfer returns the received and sent bytes of a peer, from our
// `wg show IF transfer`.
func (n *node) transfer(peer string) (rx, tx int64) {
	n.t.Helper()
	v, ok := n.wgShow("transfer")[peer]
	if !ok {
		n.t.Fatalf("%s: no transfer for %s", n.name, peer)
	}
	a, b, _ := strings.Cut(v, "\t")
	rx, err1 := strconv.ParseInt(a, 10, 64)
	tx, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil {
		n.t.Fatalf("%s: wg show transfer: %q", n.name, v)
	}
	return rx, tx
}

// TestReloadFullTunnel switches a running tunnel to a full tunnel and back
// with reload, in namespaces with the real kernel and nftables: the full
// tunnel's rules, table and firewall come and go, the state after each
// reload is the one a fresh up of the file gives, traffic keeps flowing
// without a new handshake, and down leaves the namespace as before.
func TestReloadFullTunnel(t *testing.T) {
	s := newScenario(t)
	alpha, beta := s.newNode("alpha"), s.newNode("beta")
	nettest.Veth(t, alpha.ns, "veth0", "192.168.78.1/24", beta.ns, "veth1", "192.168.78.2/24")
	ka, kb := s.genKeyPair(), s.genKeyPair()
	split := fmt.Sprintf(`[Interface]
PrivateKey = %s
Address = 10.80.0.1/24, fd80::1/64

[Peer]
PublicKey = %s
Endpoint = 192.168.78.2:51820
AllowedIPs = 10.80.0.2/32, fd80::2/128
`, ka.private, kb.public)
	full := strings.Replace(split, "AllowedIPs = 10.80.0.2/32, fd80::2/128\n", "AllowedIPs = 0.0.0.0/0, ::/0\n", 1)
	alpha.configure("rlf", split)
	beta.configure("rlg", fmt.Sprintf(`[Interface]
PrivateKey = %s
ListenPort = 51820
Address = 10.80.0.2/24, fd80::2/64

[Peer]
PublicKey = %s
AllowedIPs = 10.80.0.1/32, fd80::1/128
`, kb.private, ka.public))
	before := alpha.netState()
	alpha.wgQuickUp()
	beta.wgQuickUp()
	alpha.mustReach("10.80.0.2")
	alpha.waitHandshakes(map[string]string{"beta": kb.public})
	handshake := alpha.wgShow("latest-handshakes")[kb.public]
	splitState := alpha.netState()

	reload := func(text string) string {
		t.Helper()
		if err := os.WriteFile(alpha.conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := alpha.wgQuick("reload")
		if err != nil {
			t.Fatalf("wg-quick reload: %v\n%s", err, out)
		}
		t.Logf("wg-quick reload:\n%s", out)
		return out
	}

	out := reload(full)
	fullState := alpha.netState()
	for _, want := range []string{"not from all fwmark 0xca6c lookup 51820", "from all lookup main suppress_prefixlength 0", "table ip wg-quick-" + alpha.iface, "table ip6 wg-quick-" + alpha.iface, "default dev " + alpha.iface + " table 51820"} {
		if !strings.Contains(fullState, want) {
			t.Errorf("after reload to a full tunnel, no %q in\n%s", want, fullState)
		}
	}
	if strings.Contains(out, kb.public+" remove") {
		t.Errorf("reload re-created the peer:\n%s", out)
	}
	alpha.mustReach("10.80.0.2")
	alpha.mustReach("fd80::2")
	if got := alpha.wgShow("latest-handshakes")[kb.public]; got != handshake {
		t.Errorf("the session did not survive the reload: latest handshake %s → %s", handshake, got)
	}

	reload(split)
	if diff := cmp.Diff(splitState, alpha.netState()); diff != "" {
		t.Errorf("reload back from the full tunnel differs from the split tunnel's up (-up +reload):\n%s", diff)
	}
	alpha.mustReach("10.80.0.2")

	// A fresh up of the full tunnel gives what the reload gave.
	alpha.wgQuickDown()
	alpha.checkDown(before)
	if err := os.WriteFile(alpha.conf, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	alpha.wgQuickUp()
	// The new link has another random IPv6 link-local address, which the
	// firewall's anti-spoofing rules name.
	ll := regexp.MustCompile(`fe80::[0-9a-f:]+`)
	if diff := cmp.Diff(ll.ReplaceAllString(fullState, "fe80::LL"), ll.ReplaceAllString(alpha.netState(), "fe80::LL")); diff != "" {
		t.Errorf("reload to the full tunnel differs from its fresh up (-reload +up):\n%s", diff)
	}
	beta.wgQuickDown()
	alpha.wgQuickDown()
	alpha.checkDown(before)
}
