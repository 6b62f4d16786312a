package firewall

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netns"

	"github.com/wgtools/wgtools/internal/nettest"
)

// nftNS is a throwaway namespace with an NFT working in it.
type nftNS struct {
	*nettest.NetNS
	nft    *NFT
	handle netns.NsHandle
}

// newNFTNS creates a namespace and an NFT bound to it by file descriptor.
func newNFTNS(t *testing.T) *nftNS {
	t.Helper()
	ns := nettest.NewNetNS(t)
	h, err := netns.GetFromName(ns.Name)
	if err != nil {
		t.Fatalf("opening namespace %s: %v", ns.Name, err)
	}
	t.Cleanup(func() { h.Close() })
	n, err := NewNFT(int(h))
	if err != nil {
		t.Fatalf("NewNFT: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &nftNS{NetNS: ns, nft: n, handle: h}
}

// runStdin runs name with args in the namespace with stdin as its standard
// input and returns its combined output and error.
func (ns *nftNS) runStdin(stdin, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := ns.Command(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w\n%s", cmd, err, out)
	}
	return string(out), nil
}

// mustRunStdin is runStdin failing the test on error.
func (ns *nftNS) mustRunStdin(t *testing.T, stdin, name string, args ...string) string {
	t.Helper()
	out, err := ns.runStdin(stdin, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// kernelState is what the kernel holds for one wg-quick table, in three
// renderings: nft's listing, nft's netlink bytecode dump, and the
// expressions as google/nftables decodes them (which, unlike the other two,
// show the length of every compared value).
type kernelState struct {
	List     string
	Bytecode string
	Exprs    map[string][][]expr.Any // chain name → rules → expressions
}

// state captures the table wg-quick-IF of r's family.
func (ns *nftNS) state(t *testing.T, r Rules) kernelState {
	t.Helper()
	name := TableName(r.Interface)
	s := kernelState{
		List:     ns.Run(t, "nft", "list", "table", r.pf(), name),
		Bytecode: ns.Run(t, "nft", "--debug=netlink", "list", "table", r.pf(), name),
		Exprs:    map[string][][]expr.Any{},
	}
	c, err := nftables.New(nftables.WithNetNSFd(int(ns.handle)))
	if err != nil {
		t.Fatal(err)
	}
	fam, _ := tableFamily(r.Family)
	tab := &nftables.Table{Name: name, Family: fam}
	for _, chain := range []string{"preraw", "premangle", "postmangle"} {
		rules, err := c.GetRules(tab, &nftables.Chain{Name: chain, Table: tab})
		if err != nil {
			t.Fatalf("listing rules of chain %s: %v", chain, err)
		}
		for _, rule := range rules {
			s.Exprs[chain] = append(s.Exprs[chain], rule.Exprs)
		}
	}
	return s
}

// TestNFTEquivalence proves that Apply installs what wg-quick's script
// installs: it loads NFTScript's text with "nft -f -", captures the table,
// deletes it, applies the same Rules natively and captures the table again.
func TestNFTEquivalence(t *testing.T) {
	nettest.RequireBinary(t, "nft")
	tests := []Rules{
		{Interface: "wg0", Mark: 51820, Family: 4, Addrs: []netip.Addr{
			netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("192.168.77.1"),
		}},
		{Interface: "wg0", Mark: 0xca6c, Family: 6, Addrs: []netip.Addr{
			netip.MustParseAddr("fd00::2"), netip.MustParseAddr("fe80::1%wg0"),
		}},
		{Interface: "wgtest-15chars", Mark: 0x12345678, Family: 4, Addrs: []netip.Addr{
			netip.MustParseAddr("172.16.0.1"),
		}},
		{Interface: "wg1", Mark: 0xffffffff, Family: 6},
	}
	for _, r := range tests {
		t.Run(fmt.Sprintf("%s-ipv%d-mark%#x", r.Interface, r.Family, r.Mark), func(t *testing.T) {
			ns := newNFTNS(t)
			ns.mustRunStdin(t, NFTScript(r), "nft", "-f", "-")
			want := ns.state(t, r)
			ns.Run(t, "nft", "delete", "table", r.pf(), TableName(r.Interface))
			if out := ns.Run(t, "nft", "list", "tables"); out != "" {
				t.Fatalf("tables left after delete:\n%s", out)
			}

			if err := ns.nft.Apply(r); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			got := ns.state(t, r)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("native table differs from nft's (-nft +native):\n%s", diff)
			}
			// Guard against comparing two empty captures.
			if n := len(want.Exprs["preraw"]); n != len(r.Addrs) || len(want.Exprs["postmangle"]) != 1 || len(want.Exprs["premangle"]) != 1 {
				t.Errorf("nft installed %d anti-spoofing rules, want %d; state:\n%s", n, len(r.Addrs), want.List)
			}
			t.Logf("kernel state:\n%s", got.List)
		})
	}
}

// TestNFTCurrentNamespace applies with NewNFT(0) from inside the namespace.
func TestNFTCurrentNamespace(t *testing.T) {
	nettest.RequireBinary(t, "nft")
	ns := newNFTNS(t)
	r := Rules{Interface: "wg0", Mark: 51820, Family: 4, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.2")}}
	ns.mustRunStdin(t, NFTScript(r), "nft", "-f", "-")
	want := ns.state(t, r)
	ns.Run(t, "nft", "delete", "table", "ip", "wg-quick-wg0")

	err := ns.Do(func() error {
		n, err := NewNFT(0)
		if err != nil {
			return err
		}
		defer n.Close()
		return n.Apply(r)
	})
	if err != nil {
		t.Fatalf("Apply in the current namespace: %v", err)
	}
	if diff := cmp.Diff(want, ns.state(t, r)); diff != "" {
		t.Errorf("native table differs from nft's (-nft +native):\n%s", diff)
	}
}

// TestNFTApplyReplaces shows that Apply on an existing table replaces it
// atomically: applying twice equals applying once, and new addresses leave
// no stale rule.
func TestNFTApplyReplaces(t *testing.T) {
	nettest.RequireBinary(t, "nft")
	ns := newNFTNS(t)
	a := Rules{Interface: "wg0", Mark: 51820, Family: 4, Addrs: []netip.Addr{
		netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3"),
	}}
	b := Rules{Interface: "wg0", Mark: 51821, Family: 4, Addrs: []netip.Addr{netip.MustParseAddr("10.9.9.9")}}

	if err := ns.nft.Apply(b); err != nil {
		t.Fatal(err)
	}
	wantB := ns.state(t, b)
	if err := ns.nft.Remove("wg0"); err != nil {
		t.Fatal(err)
	}
	if err := ns.nft.Apply(a); err != nil {
		t.Fatal(err)
	}
	wantA := ns.state(t, a)

	if err := ns.nft.Apply(a); err != nil {
		t.Fatalf("second Apply: %v", err)
	}
	if diff := cmp.Diff(wantA, ns.state(t, a)); diff != "" {
		t.Errorf("applying twice differs from applying once (-once +twice):\n%s", diff)
	}
	if err := ns.nft.Apply(b); err != nil {
		t.Fatalf("Apply over other rules: %v", err)
	}
	if diff := cmp.Diff(wantB, ns.state(t, b)); diff != "" {
		t.Errorf("replacing differs from a fresh Apply (-fresh +replaced):\n%s", diff)
	}
}

// TestNFTApplyInvalid shows that invalid Rules change nothing.
func TestNFTApplyInvalid(t *testing.T) {
	nettest.RequireBinary(t, "nft")
	ns := newNFTNS(t)
	for _, r := range []Rules{
		{Interface: "wg0", Mark: 0, Family: 4},
		{Interface: "wg0", Mark: 1, Family: 4, Addrs: []netip.Addr{netip.MustParseAddr("fd00::1")}},
		{Interface: "", Mark: 1, Family: 6},
	} {
		if err := ns.nft.Apply(r); err == nil {
			t.Errorf("Apply(%+v) succeeded, want error", r)
		}
	}
	if out := ns.Run(t, "nft", "list", "tables"); out != "" {
		t.Errorf("invalid Apply left tables:\n%s", out)
	}
}

// TestNFTRemoveAndExists covers Remove and Exists, including the names nft
// cannot parse but wg-quick accepts.
func TestNFTRemoveAndExists(t *testing.T) {
	nettest.RequireBinary(t, "nft")
	ns := newNFTNS(t)
	exists := func(iface string, family int) bool {
		t.Helper()
		ok, err := ns.nft.Exists(iface, family)
		if err != nil {
			t.Fatalf("Exists(%q, %d): %v", iface, family, err)
		}
		return ok
	}
	if exists("wg0", 4) || exists("wg0", 6) {
		t.Fatal("Exists reports a table in a new namespace")
	}
	if _, err := ns.nft.Exists("wg0", 5); err == nil {
		t.Error("Exists with family 5 succeeded")
	}
	if err := ns.nft.Remove("wg0"); err != nil {
		t.Fatalf("Remove with no table: %v", err)
	}

	v4 := Rules{Interface: "wg0", Mark: 51820, Family: 4, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.2")}}
	v6 := Rules{Interface: "wg0", Mark: 51820, Family: 6, Addrs: []netip.Addr{netip.MustParseAddr("fe80::1")}}
	if err := ns.nft.Apply(v4); err != nil {
		t.Fatal(err)
	}
	if !exists("wg0", 4) || exists("wg0", 6) {
		t.Fatalf("after applying IPv4: Exists(4) = %v, Exists(6) = %v; want true, false", exists("wg0", 4), exists("wg0", 6))
	}
	if err := ns.nft.Apply(v6); err != nil {
		t.Fatal(err)
	}
	if !exists("wg0", 6) {
		t.Fatal("after applying IPv6: Exists(6) = false")
	}
	// Like wg-quick, Remove deletes the name in any family.
	ns.Run(t, "nft", "add", "table", "inet", "wg-quick-wg0")
	if err := ns.nft.Remove("wg0"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if out := ns.Run(t, "nft", "list", "tables"); out != "" {
		t.Errorf("tables left after Remove:\n%s", out)
	}
	if exists("wg0", 4) || exists("wg0", 6) {
		t.Error("Exists reports a removed table")
	}
	if err := ns.nft.Remove("wg0"); err != nil {
		t.Errorf("second Remove: %v", err)
	}

	// Other interfaces' tables and other tables stay.
	ns.Run(t, "nft", "add", "table", "ip", "wg-quick-wg01")
	ns.Run(t, "nft", "add", "table", "inet", "filter")
	odd := Rules{Interface: "a=b+c", Mark: 7, Family: 4, Addrs: []netip.Addr{netip.MustParseAddr("10.1.1.1")}}
	if _, err := ns.runStdin(NFTScript(odd), "nft", "-f", "-"); err == nil {
		t.Log("nft now parses table names with '=' and '+'")
	}
	if err := ns.nft.Apply(odd); err != nil {
		t.Fatalf("Apply for interface %q: %v", odd.Interface, err)
	}
	if !exists(odd.Interface, 4) {
		t.Errorf("Exists(%q, 4) = false after Apply", odd.Interface)
	}
	if err := ns.nft.Remove(odd.Interface); err != nil {
		t.Fatalf("Remove(%q): %v", odd.Interface, err)
	}
	want := "table ip wg-quick-wg01\ntable inet filter\n"
	if diff := cmp.Diff(want, ns.Run(t, "nft", "list", "tables")); diff != "" {
		t.Errorf("unexpected tables (-want +got):\n%s", diff)
	}
}

// TestNFTDeleteScript runs NFTDelete's script, as wg-quick's down does.
func TestNFTDeleteScript(t *testing.T) {
	nettest.RequireBinary(t, "nft")
	ns := newNFTNS(t)
	for _, r := range goldenCases[:2] {
		ns.mustRunStdin(t, NFTScript(r.r), "nft", "-f", "-")
	}
	ns.Run(t, "nft", "add", "table", "ip", "wg-quick-wg01")
	script := NFTDelete(ns.Run(t, "nft", "list", "tables"), "wg0")
	if want := "delete table ip wg-quick-wg0\ndelete table ip6 wg-quick-wg0\n"; script != want {
		t.Errorf("NFTDelete = %q, want %q", script, want)
	}
	ns.mustRunStdin(t, script, "nft", "-f", "-")
	if diff := cmp.Diff("table ip wg-quick-wg01\n", ns.Run(t, "nft", "list", "tables")); diff != "" {
		t.Errorf("unexpected tables (-want +got):\n%s", diff)
	}
}

// TestIptables loads IptablesRestore's input with iptables-restore -n (or
// ip6tables-restore), checks what iptables-save shows, and removes the rules
// with IptablesDelete's input, as wg-quick's down does.
func TestIptables(t *testing.T) {
	tests := []struct {
		r Rules
		// want is the iptables-save lines carrying the comment, by table.
		// -I inserts, so the anti-spoofing rules come in reverse order.
		want map[string][]string
	}{
		{
			r: goldenCases[0].r,
			want: map[string][]string{
				"raw": {
					`-A PREROUTING -d 192.168.77.1/32 ! -i wg0 -m addrtype ! --src-type LOCAL -m comment --comment "wg-quick(8) rule for wg0" -j DROP`,
					`-A PREROUTING -d 10.0.0.2/32 ! -i wg0 -m addrtype ! --src-type LOCAL -m comment --comment "wg-quick(8) rule for wg0" -j DROP`,
				},
				"mangle": {
					`-A PREROUTING -p udp -m comment --comment "wg-quick(8) rule for wg0" -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff`,
					`-A POSTROUTING -p udp -m mark --mark 0xca6c -m comment --comment "wg-quick(8) rule for wg0" -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff`,
				},
			},
		},
		{
			r: goldenCases[1].r,
			want: map[string][]string{
				"raw": {
					`-A PREROUTING -d fe80::1/128 ! -i wg0 -m addrtype ! --src-type LOCAL -m comment --comment "wg-quick(8) rule for wg0" -j DROP`,
					`-A PREROUTING -d fd00::2/128 ! -i wg0 -m addrtype ! --src-type LOCAL -m comment --comment "wg-quick(8) rule for wg0" -j DROP`,
				},
				"mangle": {
					`-A PREROUTING -p udp -m comment --comment "wg-quick(8) rule for wg0" -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff`,
					`-A POSTROUTING -p udp -m mark --mark 0xca6c -m comment --comment "wg-quick(8) rule for wg0" -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff`,
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("ipv%d", tt.r.Family), func(t *testing.T) {
			prog := "iptables"
			if tt.r.Family == 6 {
				prog = "ip6tables"
			}
			nettest.RequireBinary(t, prog+"-restore")
			nettest.RequireBinary(t, prog+"-save")
			ns := newNFTNS(t)
			ns.mustRunStdin(t, IptablesRestore(tt.r), prog+"-restore", "-n")
			save := ns.Run(t, prog+"-save")
			if diff := cmp.Diff(tt.want, tagged(save, tt.r.Interface)); diff != "" {
				t.Errorf("unexpected %s-save rules (-want +got):\n%s\nfull output:\n%s", prog, diff, save)
			}

			restore, found := IptablesDelete(save, tt.r.Interface)
			if !found {
				t.Fatalf("IptablesDelete found no rule in:\n%s", save)
			}
			ns.mustRunStdin(t, restore, prog+"-restore", "-n")
			save = ns.Run(t, prog+"-save")
			if got := tagged(save, tt.r.Interface); len(got) != 0 {
				t.Errorf("rules left after removal: %q", got)
			}
			if _, found := IptablesDelete(save, tt.r.Interface); found {
				t.Error("IptablesDelete finds rules after removal")
			}
		})
	}
}

// tagged returns the rules of save tagged for iface, by table. The order of
// the tables in iptables-save output varies; that of rules does not.
func tagged(save, iface string) map[string][]string {
	out := map[string][]string{}
	var table string
	for _, l := range strings.Split(save, "\n") {
		switch {
		case strings.HasPrefix(l, "*"):
			table = l[1:]
		case strings.Contains(l, `"wg-quick(8) rule for `+iface+`"`):
			out[table] = append(out[table], l)
		}
	}
	return out
}

// TestNewNFTBadFD checks that a closed descriptor is reported.
func TestNewNFTBadFD(t *testing.T) {
	if _, err := NewNFT(1 << 20); err == nil {
		t.Error("NewNFT with a closed fd succeeded")
	}
}
