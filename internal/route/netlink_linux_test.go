package route

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netns"
	"github.com/wgtools/wgtools/internal/nettest"
)

// newTestManager returns a Manager for the namespace ns, closed in
// t.Cleanup before ns is removed.
func newTestManager(t *testing.T, ns *nettest.NetNS) *Manager {
	t.Helper()
	h, err := netns.GetFromName(ns.Name)
	if err != nil {
		t.Fatalf("opening namespace %s: %v", ns.Name, err)
	}
	defer h.Close()
	m, err := NewAt(h)
	if err != nil {
		t.Fatalf("NewAt: %v", err)
	}
	t.Cleanup(m.Close)
	return m
}

// ip runs ip(8) with args in ns and returns its output; the test fails if ip
// fails.
func ip(t *testing.T, ns *nettest.NetNS, args ...string) string {
	t.Helper()
	return ns.Run(t, "ip", args...)
}

// tryIP runs ip(8) with args in ns and returns its combined output and
// whether it succeeded.
func tryIP(t *testing.T, ns *nettest.NetNS, args ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := ns.Command(ctx, "ip", args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("ip %s: %v", strings.Join(args, " "), ctx.Err())
	}
	return string(out), err == nil
}

// lines splits command output into lines without trailing white space.
func lines(out string) []string {
	var ls []string
	for l := range strings.SplitSeq(strings.TrimRight(out, "\n"), "\n") {
		if l = strings.TrimRight(l, " "); l != "" {
			ls = append(ls, l)
		}
	}
	return ls
}

// ipFamily returns ip's family option for p.
func ipFamily(p netip.Prefix) string {
	if p.Addr().Is4() {
		return "-4"
	}
	return "-6"
}

func TestLinks(t *testing.T) {
	nettest.RequireTUN(t)
	ns := nettest.NewNetNS(t)
	m := newTestManager(t, ns)
	const tun = "wgt-tun0"

	if ok, err := m.LinkExists(tun); err != nil || ok {
		t.Fatalf("LinkExists(%s) before creation = %v, %v; want false", tun, ok, err)
	}
	ip(t, ns, "tuntap", "add", "dev", tun, "mode", "tun")
	if ok, err := m.LinkExists(tun); err != nil || !ok {
		t.Fatalf("LinkExists(%s) = %v, %v; want true", tun, ok, err)
	}

	index, err := m.LinkIndex(tun)
	if err != nil {
		t.Fatal(err)
	}
	if out := ip(t, ns, "-o", "link", "show", "dev", tun); !strings.HasPrefix(out, fmt.Sprintf("%d: %s:", index, tun)) {
		t.Errorf("LinkIndex = %d, but ip shows\n%s", index, out)
	}

	if err := m.SetMTUUp(tun, 1380); err != nil {
		t.Fatalf("SetMTUUp: %v", err)
	}
	out := ip(t, ns, "-o", "link", "show", "dev", tun)
	flags, _, _ := strings.Cut(out[strings.Index(out, "<")+1:], ">")
	if !strings.Contains(out, " mtu 1380 ") || !strings.Contains(","+flags+",", ",UP,") {
		t.Errorf("after SetMTUUp(%s, 1380) ip shows\n%s", tun, out)
	}
	if mtu, err := m.LinkMTU(tun); err != nil || mtu != 1380 {
		t.Errorf("LinkMTU = %d, %v; want 1380", mtu, err)
	}

	t.Run("wireguard link", func(t *testing.T) {
		// The kernel checks the name before the type.
		err := m.AddWireGuardLink(tun)
		if !errors.Is(err, ErrExists) || !errors.Is(err, fs.ErrExist) || !errors.Is(err, syscall.EEXIST) || errors.Is(err, ErrLinkTypeUnsupported) {
			t.Errorf("AddWireGuardLink of an existing name = %v, want ErrExists", err)
		}

		// What ip says decides what AddWireGuardLink must do.
		probeOut, kernelWG := tryIP(t, ns, "link", "add", "wgt-probe", "type", "wireguard")
		if kernelWG {
			ip(t, ns, "link", "delete", "dev", "wgt-probe")
		}
		const wg = "wgt-wg0"
		err = m.AddWireGuardLink(wg)
		if kernelWG {
			if err != nil {
				t.Fatalf("ip adds wireguard links, AddWireGuardLink: %v", err)
			}
			if out := ip(t, ns, "-d", "link", "show", "dev", wg); !strings.Contains(out, "wireguard") {
				t.Errorf("ip -d link show dev %s:\n%s", wg, out)
			}
			if err := m.DeleteLink(wg); err != nil {
				t.Error(err)
			}
			return
		}
		if !strings.Contains(probeOut, "Unknown device type") {
			t.Logf("ip link add … type wireguard said: %s", probeOut)
		}
		if !errors.Is(err, ErrLinkTypeUnsupported) || !errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, ErrExists) {
			t.Errorf("AddWireGuardLink without kernel support = %v, want ErrLinkTypeUnsupported", err)
		}
		if ok, err := m.LinkExists(wg); err != nil || ok {
			t.Errorf("LinkExists(%s) after the failed add = %v, %v", wg, ok, err)
		}
	})

	if err := m.DeleteLink(tun); err != nil {
		t.Fatalf("DeleteLink: %v", err)
	}
	if out, ok := tryIP(t, ns, "link", "show", "dev", tun); ok {
		t.Errorf("link still there after DeleteLink:\n%s", out)
	}
	for name, err := range map[string]error{
		"DeleteLink": m.DeleteLink(tun),
		"SetMTUUp":   m.SetMTUUp(tun, 1420),
		"AddAddress": m.AddAddress(tun, netip.MustParsePrefix("10.0.0.1/24")),
		"AddRoute":   m.AddRoute(tun, netip.MustParsePrefix("10.0.0.0/24"), 0),
	} {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s on a missing link = %v, want fs.ErrNotExist", name, err)
		}
	}
	if _, err := m.LinkMTU(tun); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LinkMTU on a missing link = %v, want fs.ErrNotExist", err)
	}

	// New binds to the namespace of the calling thread.
	err = ns.Do(func() error {
		m, err := New()
		if err != nil {
			return err
		}
		defer m.Close()
		if ok, err := m.LinkExists("lo"); err != nil || !ok {
			return fmt.Errorf("LinkExists(lo) = %v, %v", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Errorf("New inside the namespace: %v", err)
	}
}

func TestAddressesRoutesAndMTU(t *testing.T) {
	ns := nettest.NewNetNS(t)
	peer := nettest.NewNetNS(t)
	const dev = "wgt-v0"
	nettest.Veth(t, ns, dev, "10.77.0.1/24", peer, "wgt-v1", "10.77.0.2/24")
	m := newTestManager(t, ns)

	// The subtests run in order: "covers" looks at the routes that
	// "addresses" and "routes" leave behind.
	t.Run("addresses", func(t *testing.T) {
		for _, s := range []string{"10.78.0.3/24", "fd78::3/64", "10.98.0.3/32"} {
			if err := m.AddAddress(dev, netip.MustParsePrefix(s)); err != nil {
				t.Fatalf("AddAddress(%s): %v", s, err)
			}
		}
		err := m.AddAddress(dev, netip.MustParsePrefix("10.78.0.3/24"))
		if !errors.Is(err, ErrExists) {
			t.Errorf("AddAddress of a duplicate = %v, want ErrExists", err)
		}

		// As ip adds them: no broadcast address, no nodad.
		for _, l := range lines(ip(t, ns, "-o", "address", "show", "dev", dev)) {
			if strings.Contains(l, "10.78.0.3/24") && !strings.Contains(l, "inet 10.78.0.3/24 scope global "+dev) {
				t.Errorf("IPv4 address not as ip adds it:\n%s", l)
			}
			if strings.Contains(l, "fd78::3/64") && (!strings.Contains(l, "inet6 fd78::3/64 scope global") || strings.Contains(l, "nodad")) {
				t.Errorf("IPv6 address not as ip adds it:\n%s", l)
			}
		}

		// The link-local address appears shortly after the link runs, and
		// ip and the kernel's order must agree anyway: compare until they
		// do and fe80:: is there.
		var got, want []netip.Prefix
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			got, err = m.Addresses(dev)
			if err != nil {
				t.Fatalf("Addresses: %v", err)
			}
			want = nil
			for _, f := range strings.Fields(ip(t, ns, "-brief", "address", "show", "dev", dev))[2:] {
				want = append(want, netip.MustParsePrefix(f))
			}
			linkLocal := len(want) > 0 && want[len(want)-1].Addr().IsLinkLocalUnicast()
			if (cmp.Equal(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })) && linkLocal) || time.Now().After(deadline) {
				break
			}
		}
		if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
			t.Errorf("Addresses differ from ip -brief address show (-ip +got):\n%s", diff)
		}
		if got[0] != netip.MustParsePrefix("10.77.0.1/24") || got[len(got)-1].Addr().Is4() {
			t.Errorf("Addresses = %v, want the kernel's order with IPv4 first", got)
		}
	})

	t.Run("routes", func(t *testing.T) {
		const table = 51820
		v4, v6 := netip.MustParsePrefix("10.9.0.0/16"), netip.MustParsePrefix("fd09::/64")
		if empty, err := m.TableEmpty(table); err != nil || !empty {
			t.Fatalf("TableEmpty(%d) on a new namespace = %v, %v", table, empty, err)
		}
		if err := m.AddRoute(dev, v4, table); err != nil {
			t.Fatal(err)
		}
		if got := ip(t, ns, "-4", "route", "show", "table", "51820"); got != "10.9.0.0/16 dev wgt-v0 scope link \n" {
			t.Errorf("ip -4 route show table 51820 = %q", got)
		}
		if got := ip(t, ns, "-d", "-4", "route", "show", "table", "51820"); !strings.HasPrefix(got, "unicast 10.9.0.0/16 dev wgt-v0 proto boot scope link") {
			t.Errorf("ip -d -4 route show table 51820 = %q, want protocol boot", got)
		}
		if empty, err := m.TableEmpty(table); err != nil || empty {
			t.Errorf("TableEmpty(%d) with an IPv4 route = %v, %v", table, empty, err)
		}
		if err := m.AddRoute(dev, v6, table); err != nil {
			t.Fatal(err)
		}
		if got := ip(t, ns, "-6", "route", "show", "table", "51820"); got != "fd09::/64 dev wgt-v0 metric 1024 pref medium\n" {
			t.Errorf("ip -6 route show table 51820 = %q", got)
		}
		for _, p := range []netip.Prefix{v4, v6} {
			if err := m.AddRoute(dev, p, table); !errors.Is(err, ErrExists) {
				t.Errorf("AddRoute of a duplicate %v = %v, want ErrExists", p, err)
			}
		}
		if err := m.DeleteRoute(dev, v4, table); err != nil {
			t.Fatal(err)
		}
		if empty, err := m.TableEmpty(table); err != nil || empty {
			t.Errorf("TableEmpty(%d) with an IPv6 route only = %v, %v", table, empty, err)
		}
		if err := m.DeleteRoute(dev, v6, table); err != nil {
			t.Fatal(err)
		}
		if empty, err := m.TableEmpty(table); err != nil || !empty {
			t.Errorf("TableEmpty(%d) after deleting = %v, %v", table, empty, err)
		}
		if out := ip(t, ns, "route", "show", "table", "51820") + ip(t, ns, "-6", "route", "show", "table", "51820"); out != "" {
			t.Errorf("table 51820 not empty for ip:\n%s", out)
		}
		if err := m.DeleteRoute(dev, v4, table); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("DeleteRoute of a missing route = %v, want fs.ErrNotExist", err)
		}

		// The same route added by ip and by AddRoute looks the same in
		// every detail (type, protocol, scope, metric).
		for _, p := range []netip.Prefix{netip.MustParsePrefix("10.11.0.0/16"), netip.MustParsePrefix("fd11::/48")} {
			ip(t, ns, ipFamily(p), "route", "add", p.String(), "dev", dev, "table", "100")
			if err := m.AddRoute(dev, p, 101); err != nil {
				t.Fatal(err)
			}
			byIP := ip(t, ns, "-d", ipFamily(p), "route", "show", "table", "100")
			ours := ip(t, ns, "-d", ipFamily(p), "route", "show", "table", "101")
			if byIP != ours {
				t.Errorf("ip route add gives\n%swhere AddRoute gives\n%s", byIP, ours)
			}
		}

		// Table 0 is main.
		if err := m.AddRoute(dev, netip.MustParsePrefix("10.10.0.0/16"), 0); err != nil {
			t.Fatal(err)
		}
		if out := ip(t, ns, "-4", "route", "show", "dev", dev); !strings.Contains(out, "10.10.0.0/16 scope link") {
			t.Errorf("route not in main:\n%s", out)
		}
		if empty, err := m.TableEmpty(0); err != nil || empty {
			t.Errorf("TableEmpty(0) = %v, %v; want main, which has routes", empty, err)
		}

		// Like ip, host bits in an IPv4 route are an error.
		if err := m.AddRoute(dev, netip.MustParsePrefix("10.12.0.1/16"), 0); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("AddRoute with host bits = %v, want EINVAL", err)
		}
	})

	t.Run("covers", func(t *testing.T) {
		tests := []struct {
			p    string
			want bool
		}{
			{"10.77.0.0/24", true},     // the connected route itself
			{"10.77.0.128/25", true},   // inside it
			{"10.77.0.5/32", true},     // a host inside it
			{"10.77.0.0/16", false},    // wider than any route
			{"10.10.1.0/24", true},     // inside 10.10.0.0/16 from AddRoute
			{"10.11.1.0/24", false},    // only in tables 100 and 101
			{"10.9.0.0/16", false},     // deleted
			{"0.0.0.0/0", false},       // no default route on the device
			{"fd78::/64", true},        // IPv6 connected route
			{"fd78::1:0/112", true},    // inside it
			{"fe80::1/128", true},      // link-local route
			{"2001:db8::/32", false},   // nothing
			{"fd11::/48", false},       // only in tables 100 and 101
			{"10.77.1.0/24", false},    // next to the connected route
			{"fd78:0:0:1::/64", false}, // next to it
		}
		routes, err := m.LinkRoutes(dev)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			p := netip.MustParsePrefix(tt.p)
			got := Covers(routes, p)
			ipSays := ip(t, ns, ipFamily(p), "route", "show", "dev", dev, "match", tt.p) != ""
			if got != tt.want || got != ipSays {
				t.Errorf("Covers(LinkRoutes(%s), %s) = %v, want %v; ip route show dev %s match %s says %v", dev, p, got, tt.want, dev, p, ipSays)
			}
		}
		lo, err := m.LinkRoutes("lo")
		if err != nil {
			t.Fatal(err)
		}
		if Covers(lo, netip.MustParsePrefix("10.77.0.5/32")) {
			t.Errorf("Covers(LinkRoutes(lo), …): want a route on another device not to count")
		}
	})

	t.Run("mtu", func(t *testing.T) {
		if err := m.SetMTUUp(dev, 1400); err != nil {
			t.Fatal(err)
		}
		ip(t, ns, "route", "add", "10.55.0.0/16", "via", "10.77.0.2", "mtu", "1300")
		ip(t, ns, "-6", "route", "add", "fd55::/64", "dev", dev)
		ip(t, ns, "route", "add", "blackhole", "198.51.100.0/24")
		ip(t, ns, "route", "add", "unreachable", "198.51.101.0/24")
		ip(t, ns, "route", "add", "prohibit", "198.51.102.0/24")
		ip(t, ns, "-6", "route", "add", "blackhole", "2001:db8:1::/48")
		tests := []struct {
			dst    string
			want   int
			wantOK bool
		}{
			{"10.77.0.2", 1400, true},  // the veth's MTU
			{"fd55::9", 1400, true},    // the same over IPv6
			{"10.55.1.1", 1300, true},  // the route's mtu metric
			{"127.0.0.1", 65536, true}, // lo
			{"192.0.2.1", 0, false},    // no route
			{"2001:db8::1", 0, false},  // no route
			{"198.51.100.1", 0, false}, // blackhole
			{"198.51.101.1", 0, false}, // unreachable
			{"198.51.102.1", 0, false}, // prohibit
			{"2001:db8:1::1", 0, false},
		}
		for _, tt := range tests {
			mtu, ok, err := m.RouteMTU(netip.MustParseAddr(tt.dst))
			if err != nil || mtu != tt.want || ok != tt.wantOK {
				t.Errorf("RouteMTU(%s) = %d, %v, %v; want %d, %v", tt.dst, mtu, ok, err, tt.want, tt.wantOK)
			}
			if _, ipOK := tryIP(t, ns, "route", "get", tt.dst); ipOK != tt.wantOK {
				t.Errorf("ip route get %s succeeds: %v, want %v", tt.dst, ipOK, tt.wantOK)
			}
		}

		if mtu, ok, err := m.DefaultRouteMTU(); err != nil || ok {
			t.Errorf("DefaultRouteMTU without a default route = %d, %v, %v", mtu, ok, err)
		}
		// An IPv6 default route is not what "ip route show default" shows.
		ip(t, ns, "-6", "route", "add", "default", "dev", dev)
		if mtu, ok, err := m.DefaultRouteMTU(); err != nil || ok {
			t.Errorf("DefaultRouteMTU with an IPv6 default route only = %d, %v, %v", mtu, ok, err)
		}
		if err := m.SetMTUUp(dev, 1380); err != nil {
			t.Fatal(err)
		}
		ip(t, ns, "route", "add", "default", "via", "10.77.0.2")
		if out := ip(t, ns, "route", "show", "default"); !strings.HasPrefix(out, "default via 10.77.0.2 dev "+dev) {
			t.Fatalf("ip route show default = %q", out)
		}
		if mtu, ok, err := m.DefaultRouteMTU(); err != nil || !ok || mtu != 1380 {
			t.Errorf("DefaultRouteMTU via a 1380 veth = %d, %v, %v; want 1380", mtu, ok, err)
		}
		ip(t, ns, "route", "replace", "default", "via", "10.77.0.2", "mtu", "1280")
		if mtu, ok, err := m.DefaultRouteMTU(); err != nil || !ok || mtu != 1280 {
			t.Errorf("DefaultRouteMTU with mtu 1280 = %d, %v, %v; want 1280", mtu, ok, err)
		}
		// Now every address has a route.
		if mtu, ok, err := m.RouteMTU(netip.MustParseAddr("192.0.2.1")); err != nil || !ok || mtu != 1280 {
			t.Errorf("RouteMTU through the default route = %d, %v, %v; want 1280", mtu, ok, err)
		}
	})
}

// TestDeleteAddressAndLinkRoutes checks DeleteAddress against ip's view of
// the link, and LinkRoutes against "ip route show dev IF": the connected
// routes of addresses come and go with them, routes in other tables and
// through other links do not count.
func TestDeleteAddressAndLinkRoutes(t *testing.T) {
	ns := nettest.NewNetNS(t)
	peer := nettest.NewNetNS(t)
	const dev = "wgt-d0"
	nettest.Veth(t, ns, dev, "10.79.0.1/24", peer, "wgt-d1", "10.79.0.2/24")
	m := newTestManager(t, ns)

	// ipRoutes lists the destinations ip shows for dev in main, in its
	// order, IPv4 first, ignoring the link-local route, which comes and
	// goes with the link-local address.
	ipRoutes := func() []string {
		var out []string
		for _, fam := range []string{"-4", "-6"} {
			for _, l := range lines(ip(t, ns, fam, "route", "show", "dev", dev)) {
				dst := strings.Fields(l)[0]
				if dst == "default" {
					dst = map[string]string{"-4": "0.0.0.0/0", "-6": "::/0"}[fam]
				}
				if !strings.Contains(dst, "/") {
					dst += map[string]string{"-4": "/32", "-6": "/128"}[fam]
				}
				if !strings.HasPrefix(dst, "fe80:") {
					out = append(out, dst)
				}
			}
		}
		return out
	}
	linkRoutes := func() []string {
		t.Helper()
		ps, err := m.LinkRoutes(dev)
		if err != nil {
			t.Fatalf("LinkRoutes: %v", err)
		}
		var out []string
		for _, p := range ps {
			if !p.Addr().IsLinkLocalUnicast() {
				out = append(out, p.String())
			}
		}
		return out
	}
	check := func(want ...string) {
		t.Helper()
		if diff := cmp.Diff(want, linkRoutes()); diff != "" {
			t.Errorf("LinkRoutes (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(ipRoutes(), linkRoutes()); diff != "" {
			t.Errorf("LinkRoutes differ from ip route show dev %s (-ip +got):\n%s", dev, diff)
		}
	}

	check("10.79.0.0/24")
	for _, s := range []string{"10.80.0.3/24", "fd80::3/64", "10.81.0.3/32"} {
		if err := m.AddAddress(dev, netip.MustParsePrefix(s)); err != nil {
			t.Fatal(err)
		}
	}
	ip(t, ns, "route", "add", "10.82.0.0/16", "dev", dev)
	ip(t, ns, "route", "add", "default", "dev", dev)
	ip(t, ns, "route", "add", "10.83.0.0/16", "dev", dev, "table", "100")
	ip(t, ns, "route", "add", "10.84.0.0/16", "dev", "lo")
	check("0.0.0.0/0", "10.79.0.0/24", "10.80.0.0/24", "10.82.0.0/16", "fd80::/64")

	for _, s := range []string{"10.80.0.3/24", "fd80::3/64", "10.81.0.3/32"} {
		if err := m.DeleteAddress(dev, netip.MustParsePrefix(s)); err != nil {
			t.Errorf("DeleteAddress(%s): %v", s, err)
		}
	}
	for _, l := range lines(ip(t, ns, "-o", "address", "show", "dev", dev)) {
		if strings.Contains(l, "10.80.0.3") || strings.Contains(l, "fd80::3") || strings.Contains(l, "10.81.0.3") {
			t.Errorf("address still there after DeleteAddress: %s", l)
		}
	}
	// The addresses' connected routes went with them.
	check("0.0.0.0/0", "10.79.0.0/24", "10.82.0.0/16")

	// Deleting an address the link lacks, or one with another prefix
	// length than it has, fails as ip's "Cannot assign requested address".
	for _, s := range []string{"10.80.0.3/24", "fd80::3/64", "10.79.0.1/16"} {
		if err := m.DeleteAddress(dev, netip.MustParsePrefix(s)); !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, syscall.EADDRNOTAVAIL) {
			t.Errorf("DeleteAddress(%s) of a missing address = %v, want fs.ErrNotExist and EADDRNOTAVAIL", s, err)
		}
	}
	if err := m.DeleteAddress("wgt-nosuch", netip.MustParsePrefix("10.79.0.1/24")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DeleteAddress on a missing link = %v, want fs.ErrNotExist", err)
	}
	if _, err := m.LinkRoutes("wgt-nosuch"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LinkRoutes on a missing link = %v, want fs.ErrNotExist", err)
	}
}

// TestRouteAfterLinkRecreated: the Manager remembers a link's index for
// route requests; when the link is deleted and created again behind its
// back (a new index), AddRoute and DeleteRoute still reach the new link,
// and deleting a route of a link that is gone is fs.ErrNotExist.
func TestRouteAfterLinkRecreated(t *testing.T) {
	nettest.RequireRoot(t)
	nettest.RequireTUN(t)
	ns := nettest.NewNetNS(t)
	m := newTestManager(t, ns)
	const dev = "wgt-re0"
	mk := func() {
		ip(t, ns, "tuntap", "add", "dev", dev, "mode", "tun")
		ip(t, ns, "link", "set", "dev", dev, "up")
	}
	mk()
	p1, p2 := netip.MustParsePrefix("10.81.1.0/24"), netip.MustParsePrefix("10.81.2.0/24")
	if err := m.AddRoute(dev, p1, 0); err != nil {
		t.Fatal(err)
	}
	ip(t, ns, "link", "delete", "dev", dev)
	mk()
	if err := m.AddRoute(dev, p2, 0); err != nil {
		t.Fatalf("AddRoute after the link was recreated: %v", err)
	}
	if out := ip(t, ns, "-4", "route", "show", "dev", dev); !strings.Contains(out, "10.81.2.0/24") || strings.Contains(out, "10.81.1.0/24") {
		t.Errorf("routes on the new link:\n%s", out)
	}
	if err := m.DeleteRoute(dev, p2, 0); err != nil {
		t.Fatalf("DeleteRoute: %v", err)
	}
	ip(t, ns, "link", "delete", "dev", dev)
	if err := m.DeleteRoute(dev, p2, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DeleteRoute with the link gone: %v, want fs.ErrNotExist", err)
	}
}
