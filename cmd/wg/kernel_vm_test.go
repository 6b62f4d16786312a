//go:build vmtest

package main

// Tests that mean something only on a kernel WireGuard device; scripts/vm
// builds them with -tags vmtest and runs them in the VM's kernel stage,
// where Debian's kernel (6.1) has the module.

import (
	"os"
	"strings"
	"testing"

	"github.com/wgtools/wgtools/internal/nettest"
)

// TestKernelRemoveAllowedIPRefused: upstream's `-ADDR` needs the kernel's
// WGALLOWEDIP_F_REMOVE_ME flag, which 6.1 lacks (an old kernel ignores the
// flag and would add the address it was asked to remove). Ours refuses the
// whole request with a clear error and changes nothing, neither the
// removal nor the other changes of the same command.
func TestKernelRemoveAllowedIPRefused(t *testing.T) {
	nettest.Require(t, nettest.KernelDevices(), "WGTOOLS_TEST_DEVICE=kernel (the VM's kernel stage)")
	ns := nettest.NewNetNS(t)
	at := wgAt{ns}
	name := nettest.UniqueIfName(t, "wgk")
	nettest.NewDevice(t, ns, name)
	_, pub := genKeys(t, 1)
	if r := at.ours(t, "", "set", name, "listen-port", "51820", "peer", pub[0], "allowed-ips", "10.0.0.0/24,10.1.0.0/24"); r.Code != 0 {
		t.Fatalf("set: %+v", r)
	}
	before := at.ref(t, "", "showconf", name)
	dir := t.TempDir()
	conf := dir + "/minus.conf"
	writeFile(t, conf, "[Interface]\nListenPort = 51999\n[Peer]\nPublicKey = "+pub[0]+"\nAllowedIPs = -10.0.0.0/24, +10.2.0.0/24\n")
	for _, args := range [][]string{
		{"set", name, "listen-port", "51999", "peer", pub[0], "allowed-ips", "+10.2.0.0/24,-10.0.0.0/24"},
		{"addconf", name, conf},
	} {
		r := at.ours(t, "", args...)
		want := "Unable to modify interface: Operation not supported\n(removing a single allowed IP with -ADDR needs a userspace device; nothing was changed)\n"
		if r.Code != 1 || r.Stderr != want || r.Stdout != "" {
			t.Errorf("wg %q: %+v, want exit 1 and %q", args, r, want)
		}
		if after := at.ref(t, "", "showconf", name); after != before {
			t.Errorf("wg %q changed the device:\nbefore:\n%s\nafter:\n%s", args, before.Stdout, after.Stdout)
		}
	}
	// Additions alone go through.
	if r := at.ours(t, "", "set", name, "peer", pub[0], "allowed-ips", "+10.2.0.0/24"); r.Code != 0 {
		t.Fatalf("set +: %+v", r)
	}
	out := at.ref(t, "", "show", name, "allowed-ips").Stdout
	if !strings.HasSuffix(strings.TrimSpace(out), "10.0.0.0/24 10.1.0.0/24 10.2.0.0/24") {
		t.Errorf("after +10.2.0.0/24: %q", out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
