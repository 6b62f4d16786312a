package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgtools/wgtools/internal/nettest"
)

// startEmbedded builds our wg-quick and starts its embedded userspace
// device (`wg-quick userspace IF`, detached) in ns; it is stopped by
// deleting its link.
func startEmbedded(t *testing.T, ns *nettest.NetNS, name string) {
	t.Helper()
	bin := nettest.OurBinary(t, "wg-quick")
	ns.Run(t, bin, "userspace", name)
	t.Cleanup(func() {
		exec.Command("ip", "-n", ns.Name, "link", "del", name).Run()
		for range 50 {
			if _, err := os.Stat("/var/run/wireguard/" + name + ".sock"); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// TestIncrementalAllowedIPs exercises upstream's +/- allowed-ips syntax
// (v1.0.20250521), which the installed Debian wg rejects outright: on our
// embedded device `-ADDR` removes one prefix and `+ADDR` adds one without
// replacing, through `wg set` and through a config file; Debian's older
// wireguard-go does not know `-ADDR` and answers EINVAL, which we report
// as wg would.
func TestIncrementalAllowedIPs(t *testing.T) {
	nettest.RequireRoot(t)
	nettest.RequireTUN(t)
	ns := nettest.NewNetNS(t)
	ours := nettest.UniqueIfName(t, "wgi")
	startEmbedded(t, ns, ours)
	_, pub := genKeys(t, 1)
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"set", ours, "peer", pub[0], "allowed-ips", "10.0.0.0/24,10.1.0.0/24"}, "10.0.0.0/24 10.1.0.0/24"},
		{[]string{"set", ours, "peer", pub[0], "allowed-ips", "-10.0.0.0/24,+10.2.0.0/24"}, "10.1.0.0/24 10.2.0.0/24"},
		{[]string{"set", ours, "peer", pub[0], "allowed-ips", "+fd00::/64"}, "10.1.0.0/24 10.2.0.0/24 fd00::/64"},
	}
	for _, s := range steps {
		if r := ourWG("", s.args...); r.Code != 0 {
			t.Fatalf("wg %q: %+v", s.args, r)
		}
		if got := allowed(t, ours); got != s.want {
			t.Fatalf("after wg %q: allowed ips %q, want %q", s.args, got, s.want)
		}
	}
	conf := filepath.Join(t.TempDir(), "inc.conf")
	os.WriteFile(conf, []byte("[Peer]\nPublicKey = "+pub[0]+"\nAllowedIPs = -10.1.0.0/24, -fd00::/64\n"), 0o600)
	if r := ourWG("", "addconf", ours, conf); r.Code != 0 {
		t.Fatalf("addconf: %+v", r)
	}
	if got := allowed(t, ours); got != "10.2.0.0/24" {
		t.Fatalf("after addconf with removals: %q", got)
	}

	old := nettest.UniqueIfName(t, "wgo")
	nettest.StartWireGuardGo(t, ns, old)
	r := ourWG("", "set", old, "peer", pub[0], "allowed-ips", "-10.0.0.0/24")
	if r.Code != 1 || r.Stderr != "Unable to modify interface: Invalid argument\n" {
		t.Fatalf("Debian wireguard-go and -ADDR: %+v", r)
	}
}

func allowed(t *testing.T, name string) string {
	t.Helper()
	r := refWG(t, "", "show", name, "allowed-ips")
	if r.Code != 0 {
		t.Fatalf("wg show: %+v", r)
	}
	_, ips, _ := strings.Cut(strings.TrimSpace(r.Stdout), "\t")
	return ips
}
