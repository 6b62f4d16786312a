//go:build vmtest

package main

// Tests that mean something only where the kernel has WireGuard;
// scripts/vm builds them with -tags vmtest and runs them in the VM's kernel
// stage (Debian's 6.1 kernel, module loaded on demand).

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgtools/wgtools/internal/nettest"
)

func init() {
	// A kernel WireGuard link takes an MTU far above 65535 (a TUN does
	// not): the reference passes it to ip(8), and ours must not refuse
	// the file for it.
	eqCases = append(eqCases, eqCase{
		name: "mtu70000_kernel",
		config: `[Interface]
PrivateKey = {{KEY}}
Address = 10.77.0.2/24
MTU = 70000

[Peer]
PublicKey = {{PEER1}}
AllowedIPs = 10.88.0.0/16
Endpoint = 192.0.2.1:51820
`,
	})
}

// requireKernel requires the run to be the VM's kernel stage.
func requireKernel(t *testing.T) {
	t.Helper()
	nettest.Require(t, nettest.KernelDevices(), "WGTOOLS_TEST_DEVICE=kernel (the VM's kernel stage)")
}

// TestKernelTalksToEmbedded joins a kernel link brought up by our wg-quick
// with our embedded userspace device (started with `wg-quick userspace`
// and configured with our wg) across two namespaces: both ends handshake
// and carry pings both ways.
func TestKernelTalksToEmbedded(t *testing.T) {
	requireKernel(t)
	s := newScenario(t)
	a, b := s.newNode("kernel"), s.newNode("embedded")
	nettest.Veth(t, a.ns, "eth0", "10.80.0.1/24", b.ns, "eth0", "10.80.0.2/24")
	ka, kb := s.genKeyPair(), s.genKeyPair()
	a.configure("kern", fmt.Sprintf("[Interface]\nPrivateKey = %s\nListenPort = 51820\nAddress = 10.81.0.1/24\n\n[Peer]\nPublicKey = %s\nEndpoint = 10.80.0.2:51820\nAllowedIPs = 10.81.0.2/32\n", ka.private, kb.public))
	a.wgQuickUp()
	if out := a.ip("-d", "link", "show", a.iface); !strings.Contains(out, "wireguard") {
		t.Fatalf("%s is not a kernel WireGuard link:\n%s", a.iface, out)
	}
	if _, err := os.Stat(socketFile(a.iface)); err == nil {
		t.Fatalf("%s has a UAPI socket: wg-quick started a userspace device although the module is there", a.iface)
	}

	bi := nettest.UniqueIfName(t, "emb")
	s.ifaces = append(s.ifaces, bi)
	b.run(s.wgQuick, "userspace", bi)
	t.Cleanup(func() { b.exec(nil, "ip", "link", "del", bi) })
	if _, err := os.Stat(socketFile(bi)); err != nil {
		t.Fatalf("embedded device %s: %v", bi, err)
	}
	b.setconfUp(bi, fmt.Sprintf("[Interface]\nPrivateKey = %s\nListenPort = 51820\n\n[Peer]\nPublicKey = %s\nEndpoint = 10.80.0.1:51820\nAllowedIPs = 10.81.0.1/32\n", kb.private, ka.public), "10.81.0.2/24")
	b.waitRunning(bi)

	a.mustReach("10.81.0.2")
	b.mustReach("10.81.0.1")
	for _, side := range []struct {
		n     *node
		iface string
	}{{a, a.iface}, {b, bi}} {
		out := side.n.run(s.wg, "show", side.iface, "latest-handshakes")
		if f := strings.Fields(out); len(f) != 2 || f[1] == "0" {
			t.Errorf("%s: no handshake: %q", side.iface, out)
		}
	}
	a.wgQuickDown()
}

// TestKernelLinkMovedToNamespace is wireguard.com/netns's containerization:
// the link is created in the namespace that has the uplink ("outside"),
// moved into a container namespace whose only way out it is, and
// configured and brought up there with our wg; its UDP socket stays
// outside, so the tunnel runs over outside's uplink to a peer brought up by
// our wg-quick.
func TestKernelLinkMovedToNamespace(t *testing.T) {
	requireKernel(t)
	s := newScenario(t)
	outside, container, peer := s.newNode("outside"), s.newNode("container"), s.newNode("peer")
	nettest.Veth(t, outside.ns, "eth0", "10.82.0.1/24", peer.ns, "eth0", "10.82.0.2/24")
	kc, kp := s.genKeyPair(), s.genKeyPair()

	peer.configure("peer", fmt.Sprintf("[Interface]\nPrivateKey = %s\nListenPort = 51820\nAddress = 10.83.0.2/24\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.83.0.1/32\n", kp.private, kc.public))
	peer.wgQuickUp()

	wg := nettest.UniqueIfName(t, "ctr")
	s.ifaces = append(s.ifaces, wg)
	outside.ip("link", "add", wg, "type", "wireguard")
	outside.ip("link", "set", wg, "netns", container.ns.Name)
	t.Cleanup(func() { container.exec(nil, "ip", "link", "del", wg) })
	container.setconfUp(wg, fmt.Sprintf("[Interface]\nPrivateKey = %s\nListenPort = 51821\n\n[Peer]\nPublicKey = %s\nEndpoint = 10.82.0.2:51820\nAllowedIPs = 0.0.0.0/0\n", kc.private, kp.public), "10.83.0.1/24")
	container.ip("route", "add", "default", "dev", wg)

	// The container has no interface but lo and the tunnel.
	if out := container.ip("-o", "link", "show"); strings.Count(out, "\n") != 2 {
		t.Fatalf("container has other links:\n%s", out)
	}
	container.mustReach("10.83.0.2")
	peer.mustReach("10.83.0.1")
	// The socket lives where the link was born.
	if out := outside.run("ss", "-Hlun", "sport", "= :51821"); !strings.Contains(out, "51821") {
		t.Errorf("no UDP socket on 51821 in the outside namespace:\n%s", out)
	}
	if out := container.run("ss", "-Hlun"); strings.Contains(out, "51821") {
		t.Errorf("the container has the UDP socket:\n%s", out)
	}
	out := container.run(s.wg, "show", wg, "latest-handshakes")
	if f := strings.Fields(out); len(f) != 2 || f[1] == "0" {
		t.Errorf("no handshake: %q", out)
	}
	peer.wgQuickDown()
}

// setconfUp configures the WireGuard device ifname with our wg setconf and
// the wg-only file text, gives it addr and brings it up: what wg-quick up
// does, by hand, for a device wg-quick did not create.
func (n *node) setconfUp(ifname, text, addr string) {
	n.t.Helper()
	conf := filepath.Join(n.dir, ifname+".wg.conf")
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		n.t.Fatal(err)
	}
	n.run(n.s.wg, "setconf", ifname, conf)
	n.ip("address", "add", addr, "dev", ifname)
	n.ip("link", "set", ifname, "up")
}
