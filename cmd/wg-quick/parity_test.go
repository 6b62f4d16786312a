package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wgtools/wgtools/internal/nettest"
)

// The parity suite: what stock wireguard-go does, the embedded device
// (`wg-quick userspace IF`) must do too. Every scenario runs on both: on
// ours, and on wireguard-go built from the library version go.mod requires
// (nettest.StockWireGuardGo), so a scenario that fails on both is a wrong
// test or a library limit, and one that fails on ours alone is ours.
//
// Devices are made as a user of the bare daemon makes them: the daemon
// started in a namespace, configured through its UAPI socket with wg, and
// addresses, MTU and link state set with ip; wg-quick itself is tested
// elsewhere. The kernel stage of scripts/vm skips these tests: they are
// about userspace devices.

// parityImpl is a userspace WireGuard implementation under the suite.
type parityImpl struct {
	name string
	bin  string
	args func(iface string) []string
}

// parityScenarios are the scenarios, each run on every implementation.
var parityScenarios = []struct {
	name string
	run  func(p *parityRun)
}{
	{"MovedNamespace", parityMovedNamespace},
	{"RoamingIPv4", func(p *parityRun) { parityRoaming(p, false) }},
	{"RoamingIPv6", func(p *parityRun) { parityRoaming(p, true) }},
	{"NATKeepalive", parityNATKeepalive},
	{"MTUUnderTraffic", parityMTU},
	{"StickySource", paritySticky},
	{"CryptoRouting", parityCryptoRouting},
	{"TCPAndUDP", parityTCPAndUDP},
	{"ManyAllowedIPs", parityManyAllowedIPs},
}

func TestParity(t *testing.T) {
	if testing.Short() && !nettest.InCI() {
		t.Skip("the parity suite takes a minute; not in -short (in CI it always runs)")
	}
	s0 := newScenario(t)
	nettest.RequireBinary(t, "iperf3")
	impls := []parityImpl{
		{"ours", s0.wgQuick, func(iface string) []string { return []string{"userspace", iface} }},
		{"stock", nettest.StockWireGuardGo(t), func(iface string) []string { return []string{iface} }},
	}
	for _, sc := range parityScenarios {
		t.Run(sc.name, func(t *testing.T) {
			for _, impl := range impls {
				t.Run(impl.name, func(t *testing.T) {
					s := newScenario(t)
					sc.run(&parityRun{t: t, s: s, impl: impl})
				})
			}
		})
	}
}

// parityRun is one scenario on one implementation.
type parityRun struct {
	t    *testing.T
	s    *scenario
	impl parityImpl
}

// pdev is one userspace device of a scenario.
type pdev struct {
	p     *parityRun
	n     *node // the namespace the daemon (and its UDP socket) runs in
	link  *node // the namespace its link is in
	iface string
	key   keyPair
	port  int
}

// device starts a daemon for a new interface in n (see start), adds the
// tunnel addresses (CIDR) and sets the link up.
func (p *parityRun) device(n *node, port int, addrs ...string) *pdev {
	p.t.Helper()
	d := p.start(n, port)
	for _, a := range addrs {
		n.ip("address", "add", a, "dev", d.iface)
	}
	n.ip("link", "set", d.iface, "up")
	return d
}

// start starts a daemon for a new interface in n and gives it a key and
// the listen port; the link stays down. Its cleanup deletes the link,
// which stops the daemon, and waits until its socket is gone.
func (p *parityRun) start(n *node, port int) *pdev {
	p.t.Helper()
	d := &pdev{p: p, n: n, link: n, iface: nettest.UniqueIfName(p.t, "wgp"), key: p.s.genKeyPair(), port: port}
	p.s.ifaces = append(p.s.ifaces, d.iface)
	env := []string{"WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1", "LOG_LEVEL="}
	if out, err := n.execToFile(env, p.impl.bin, p.impl.args(d.iface)...); err != nil {
		p.t.Fatalf("%s: starting %s: %v\n%s", n.name, p.impl.name, err, out)
	}
	p.t.Cleanup(d.remove)
	keyFile := filepath.Join(n.dir, d.iface+".key")
	if err := os.WriteFile(keyFile, []byte(d.key.private+"\n"), 0o600); err != nil {
		p.t.Fatal(err)
	}
	d.wg("set", d.iface, "private-key", keyFile, "listen-port", strconv.Itoa(port))
	return d
}

// wg runs our wg in the daemon's namespace, where its UDP socket is.
func (d *pdev) wg(args ...string) string {
	d.p.t.Helper()
	return d.n.run(d.p.s.wg, args...)
}

// peer adds o as a peer with the allowed IPs (comma-separated) and, unless
// empty, the endpoint; more are further `wg set ... peer` arguments.
func (d *pdev) peer(o *pdev, allowed, endpoint string, more ...string) {
	d.p.t.Helper()
	args := []string{"set", d.iface, "peer", o.key.public, "allowed-ips", allowed}
	if endpoint != "" {
		args = append(args, "endpoint", endpoint)
	}
	d.wg(append(args, more...)...)
}

// endpoint is what the device shows as o's endpoint.
func (d *pdev) endpoint(o *pdev) string {
	d.p.t.Helper()
	for line := range strings.Lines(d.wg("show", d.iface, "endpoints")) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "\t"); ok && k == o.key.public {
			return v
		}
	}
	d.p.t.Fatalf("%s: no peer %s", d.iface, o.key.public)
	return ""
}

// waitEndpoint waits until the device shows want as o's endpoint.
func (d *pdev) waitEndpoint(o *pdev, want string) {
	d.p.t.Helper()
	deadline := time.Now().Add(handshakeTimeout)
	for {
		got := d.endpoint(o)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			d.p.t.Fatalf("%s: endpoint of %s is %s, want %s", d.iface, o.iface, got, want)
		}
		time.Sleep(poll)
	}
}

// remove deletes the link wherever it is and waits until the daemon has
// removed its socket.
func (d *pdev) remove() {
	t := d.p.t
	if _, err := d.link.exec(nil, "ip", "link", "del", d.iface); err != nil {
		t.Logf("%s: deleting %s: %v", d.link.name, d.iface, err)
	}
	deadline := time.Now().Add(daemonExitTimeout)
	for {
		_, err := os.Lstat(socketFile(d.iface))
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s still there %v after its link was deleted", socketFile(d.iface), daemonExitTimeout)
			return
		}
		time.Sleep(poll)
	}
}

// rxPackets is the number of packets the daemon has written into its link
// (the kernel counts them as received on it).
func (d *pdev) rxPackets() uint64 {
	d.p.t.Helper()
	var links []struct {
		Stats struct {
			RX struct {
				Packets uint64 `json:"packets"`
			} `json:"rx"`
		} `json:"stats64"`
	}
	out := d.link.run("ip", "-s", "-j", "link", "show", "dev", d.iface)
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		d.p.t.Fatalf("ip -s -j link show %s: %v: %s", d.iface, err, out)
	}
	return links[0].Stats.RX.Packets
}

// parityPair is two nodes on one veth, each with a device that has the
// other as its peer: a at 10.231.0.1 (underlay 10.230.0.1, fd30::1), b at
// 10.231.0.2 (10.230.0.2, fd30::2). With v6, the endpoints are the IPv6
// underlay addresses.
func (p *parityRun) pair(v6 bool) (a, b *pdev) {
	p.t.Helper()
	na, nb := p.s.newNode("a"), p.s.newNode("b")
	nettest.Veth(p.t, na.ns, "eth0", "10.230.0.1/24", nb.ns, "eth0", "10.230.0.2/24")
	na.ip("address", "add", "fd30::1/64", "dev", "eth0", "nodad")
	nb.ip("address", "add", "fd30::2/64", "dev", "eth0", "nodad")
	a = p.device(na, 51820, "10.231.0.1/24", "fd31::1/64")
	b = p.device(nb, 51821, "10.231.0.2/24", "fd31::2/64")
	ea, eb := "10.230.0.1:51820", "10.230.0.2:51821"
	if v6 {
		ea, eb = "[fd30::1]:51820", "[fd30::2]:51821"
	}
	a.peer(b, "10.231.0.2/32,fd31::2/128", eb)
	b.peer(a, "10.231.0.1/32,fd31::1/128", ea)
	return a, b
}

// parityMovedNamespace: the daemon and its UDP socket in namespace a, the
// link moved into a namespace that has nothing else (wireguard.com/netns,
// "the new namespace's only way out is the tunnel"), configured from a, set
// up in the container: the container reaches the peer. Then the link moves
// back to a and works there again.
func parityMovedNamespace(p *parityRun) {
	t := p.t
	na, nc, box := p.s.newNode("a"), p.s.newNode("c"), p.s.newNode("container")
	nettest.Veth(t, na.ns, "eth0", "10.230.0.1/24", nc.ns, "eth0", "10.230.0.3/24")
	c := p.device(nc, 51823, "10.231.0.3/24")
	a := p.start(na, 51820)
	na.ip("link", "set", a.iface, "netns", box.ns.Name)
	a.link = box
	a.peer(c, "10.231.0.0/24", "10.230.0.3:51823")
	c.peer(a, "10.231.0.1/32", "")
	box.ip("address", "add", "10.231.0.1/24", "dev", a.iface)
	box.ip("link", "set", a.iface, "up")
	box.ip("route", "add", "default", "dev", a.iface)
	box.mustReach("10.231.0.3")
	// The MTU, too, is the link's in the container.
	box.ip("link", "set", a.iface, "mtu", "34000")
	nc.ip("link", "set", c.iface, "mtu", "34000")
	if out, err := box.exec(nil, "ping", "-n", "-c", "1", "-W", "5", "-M", "do", "-s", "30000", "10.231.0.3"); err != nil {
		t.Errorf("30,000-byte ping from the container at MTU 34000: %v\n%s", err, out)
	}
	if ep := c.endpoint(a); ep != "10.230.0.1:51820" {
		t.Errorf("c sees a at %s, want 10.230.0.1:51820 (the socket stays in a)", ep)
	}

	// And back: the link returns to a, with a new address there.
	box.ip("link", "set", a.iface, "netns", na.ns.Name)
	a.link = na
	na.ip("address", "add", "10.231.0.1/24", "dev", a.iface)
	na.ip("link", "set", a.iface, "up")
	na.mustReach("10.231.0.3")
}

// parityRoaming: both ends move, one after the other, and the tunnel
// follows them: b changes its listen port, then its address, and a learns
// each from b's next packet; then a does the same and b follows.
func parityRoaming(p *parityRun, v6 bool) {
	a, b := p.pair(v6)
	ab, ba := "10.231.0.2", "10.231.0.1"
	a.n.mustReach(ab)
	for _, step := range []struct {
		mover, other *pdev
		port         int
		v4, v6       [2]string // the mover's old and new underlay address
		reach        string    // the other's tunnel address
	}{
		{b, a, 52000, [2]string{"10.230.0.2", "10.230.0.12"}, [2]string{"fd30::2", "fd30::12"}, ba},
		{a, b, 52001, [2]string{"10.230.0.1", "10.230.0.11"}, [2]string{"fd30::1", "fd30::11"}, ab},
	} {
		m := step.mover
		addrs, bits, nodad := step.v4, "/24", []string(nil)
		if v6 {
			addrs, bits, nodad = step.v6, "/64", []string{"nodad"}
		}
		// A new listen port: the other side learns it from the next
		// packet.
		m.wg("set", m.iface, "listen-port", strconv.Itoa(step.port))
		m.n.mustReach(step.reach)
		step.other.waitEndpoint(m, hostPort(addrs[0], step.port))
		// A new address, the old one gone (removed first: removing a
		// primary IPv4 address removes the secondaries of its subnet).
		m.n.ip("address", "del", addrs[0]+bits, "dev", "eth0")
		m.n.ip(append([]string{"address", "add", addrs[1] + bits, "dev", "eth0"}, nodad...)...)
		m.n.mustReach(step.reach)
		step.other.waitEndpoint(m, hostPort(addrs[1], step.port))
	}
	// Both moved; the tunnel still works both ways.
	a.n.mustReach(ab)
	b.n.mustReach(ba)
}

// hostPort joins an address and a port as wg shows an endpoint.
func hostPort(addr string, port int) string {
	if strings.Contains(addr, ":") {
		return fmt.Sprintf("[%s]:%d", addr, port)
	}
	return fmt.Sprintf("%s:%d", addr, port)
}

// parityNATKeepalive: a sits behind a masquerading NAT router and keeps
// the mapping open with PersistentKeepalive; the server, which has no
// endpoint for a, learns the NAT's address from the keepalives alone (a
// sends no data) and reaches a through it.
func parityNATKeepalive(p *parityRun) {
	t := p.t
	in := p.s.newInternet()
	server, router, na := p.s.newNode("server"), p.s.newNode("router"), p.s.newNode("a")
	serverAddr := in.connect(server, "wan")
	routerAddr := in.connect(router, "wan")
	router.masquerade("wan")
	l := router.newLAN("10.232.77.1/24")
	l.attach(na, "10.232.77.2")
	srv := p.device(server, 51820, "10.231.0.1/24")
	a := p.device(na, 51821, "10.231.0.2/24")
	srv.peer(a, "10.231.0.2/32", "")
	a.peer(srv, "10.231.0.1/32", serverAddr.String()+":51820", "persistent-keepalive", "1")
	deadline := time.Now().Add(handshakeTimeout)
	for {
		ep := srv.endpoint(a)
		if strings.HasPrefix(ep, routerAddr.String()+":") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server sees a at %q, want the NAT's address %s", ep, routerAddr)
		}
		time.Sleep(poll)
	}
	server.mustReach("10.231.0.2")
}

// parityMTU: under a steady ping, both links go to MTU 34000, a 30,000-byte
// ping crosses unfragmented (inside; the UDP packets outside are IP
// fragments on the 1500-byte veth) and comes back, and the links go back to
// 1420, after which a ping that large no longer fits (the kernel says so
// on a, before the device sees it) and small ones still cross.
func parityMTU(p *parityRun) {
	t := p.t
	a, b := p.pair(false)
	a.n.mustReach("10.231.0.2")
	ctx, cancel := context.WithCancel(context.Background())
	traffic := a.n.ns.Command(ctx, "ping", "-n", "-i", "0.05", "10.231.0.2")
	var replies strings.Builder
	traffic.Stdout = &replies
	if err := traffic.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = traffic.Wait()
		if !strings.Contains(replies.String(), "bytes from") {
			t.Errorf("the steady ping got no reply:\n%s", replies.String())
		}
	}()
	for _, d := range []*pdev{a, b} {
		d.link.ip("link", "set", d.iface, "mtu", "34000")
	}
	big := []string{"-n", "-c", "1", "-W", "5", "-M", "do", "-s", "30000", "10.231.0.2"}
	if out, err := a.n.exec(nil, "ping", big...); err != nil {
		t.Fatalf("30,000-byte ping at MTU 34000: %v\n%s", err, out)
	}
	for _, d := range []*pdev{a, b} {
		d.link.ip("link", "set", d.iface, "mtu", "1420")
	}
	if out, err := a.n.exec(nil, "ping", big...); err == nil {
		t.Fatalf("30,000-byte ping still crosses at MTU 1420:\n%s", out)
	}
	a.n.mustReach("10.231.0.2")
	b.n.mustReach("10.231.0.1")
}

// paritySticky: a has two underlay addresses, and b knows a by the second.
// The device should answer from the address it was reached at (a "sticky"
// source), so that b keeps seeing a there; once that address is removed,
// a's packets must leave from the remaining one, and b follows.
//
// The library of go.mod is not sticky when the kernel coalesces received
// datagrams (UDP GRO, on since Linux 5.x): conn.StdNetBind's
// splitCoalescedMessages copies the datagrams but not their control
// messages, so the IP_PKTINFO destination is lost and replies leave from
// the route's preferred source. Stock wireguard-go of that library has the
// same gap; Debian's wireguard-go 0.0.20220316 (no GRO) is sticky. See
// libraryGap.
func paritySticky(p *parityRun) {
	na, nb := p.s.newNode("a"), p.s.newNode("b")
	nettest.Veth(p.t, na.ns, "eth0", "10.230.0.1/24", nb.ns, "eth0", "10.230.0.2/24")
	na.ip("address", "add", "10.230.0.100/24", "dev", "eth0")
	a := p.device(na, 51820, "10.231.0.1/24")
	b := p.device(nb, 51821, "10.231.0.2/24")
	a.peer(b, "10.231.0.2/32", "")
	b.peer(a, "10.231.0.1/32", "10.230.0.100:51820")
	b.n.mustReach("10.231.0.1")
	a.n.mustReach("10.231.0.2")
	ep := b.endpoint(a)
	p.libraryGap(ep == "10.230.0.100:51820", "after a answered, b sees a at %s, want 10.230.0.100:51820 (a's source address is not sticky)", ep)
	na.ip("address", "del", "10.230.0.100/24", "dev", "eth0")
	a.n.mustReach("10.231.0.2")
	b.waitEndpoint(a, "10.230.0.1:51820")
}

// libraryGap is a check that the wireguard-go library itself fails, so
// stock wireguard-go fails it too: a failure is logged, not counted. Once
// stock passes it (a newer library), the gap is closed upstream and the
// check fails the stock run, so that it becomes an ordinary check.
func (p *parityRun) libraryGap(ok bool, format string, args ...any) {
	p.t.Helper()
	switch {
	case !ok:
		p.t.Logf("known gap of the wireguard-go library: "+format, args...)
	case p.impl.name == "stock":
		p.t.Errorf("stock wireguard-go passes a check listed as a library gap; make it an ordinary check: "+format, args...)
	}
}

// parityCryptoRouting: a has two peers, b (10.231.0.2) and c (10.231.0.3).
// A packet b sends with c's address as its source is dropped by a's device
// (it did not come from c); the same from b's own address is delivered.
func parityCryptoRouting(p *parityRun) {
	t := p.t
	na, nb, nc := p.s.newNode("a"), p.s.newNode("b"), p.s.newNode("c")
	nettest.Veth(t, na.ns, "eth0", "10.230.0.1/24", nb.ns, "eth0", "10.230.0.2/24")
	nettest.Veth(t, na.ns, "eth1", "10.230.1.1/24", nc.ns, "eth0", "10.230.1.3/24")
	a := p.device(na, 51820, "10.231.0.1/24")
	b := p.device(nb, 51821, "10.231.0.2/24")
	c := p.device(nc, 51822, "10.231.0.3/24")
	a.peer(b, "10.231.0.2/32", "10.230.0.2:51821")
	a.peer(c, "10.231.0.3/32", "10.230.1.3:51822")
	b.peer(a, "10.231.0.0/24", "10.230.0.1:51820")
	c.peer(a, "10.231.0.0/24", "10.230.1.1:51820")
	nb.mustReach("10.231.0.1")
	nc.mustReach("10.231.0.1")

	// b claims c's address.
	nb.ip("address", "add", "10.231.0.3/32", "dev", b.iface)
	before := a.rxPackets()
	spoof := []string{"-n", "-c", "5", "-i", "0.2", "-W", "1", "-I", "10.231.0.3", "10.231.0.1"}
	if out, err := nb.exec(nil, "ping", spoof...); err == nil {
		t.Errorf("a answered pings from b with c's source address:\n%s", out)
	}
	if after := a.rxPackets(); after != before {
		t.Errorf("a's device delivered %d packets from b with c's source address, want none", after-before)
	}
	// The control: b's own address.
	nb.run("ping", "-n", "-c", "5", "-i", "0.2", "-W", "1", "-I", "10.231.0.2", "10.231.0.1")
	if after := a.rxPackets(); after < before+5 {
		t.Errorf("a's device delivered %d packets from b's own address, want at least 5", after-before)
	}
}

// parityTCPAndUDP: iperf3 moves 4 MB over TCP and 1 MB over UDP through the
// tunnel, over IPv4 and over IPv6 inside, and the receiver gets them.
func parityTCPAndUDP(p *parityRun) {
	t := p.t
	a, b := p.pair(false)
	a.n.mustReach("10.231.0.2")
	for _, tc := range []struct {
		name, server string
		args         []string
	}{
		{"TCP over IPv4", "10.231.0.2", []string{"-n", "4M"}},
		{"TCP over IPv6", "fd31::2", []string{"-n", "4M"}},
		{"UDP over IPv4", "10.231.0.2", []string{"-u", "-b", "20M", "-n", "1M"}},
		{"UDP over IPv6", "fd31::2", []string{"-u", "-b", "20M", "-n", "1M"}},
	} {
		received := parityIperf(t, a.n, b.n, tc.server, tc.args...)
		if received == 0 {
			t.Errorf("%s: the receiver got nothing", tc.name)
		}
		t.Logf("%s: %d bytes received", tc.name, received)
	}
}

// parityIperf runs an iperf3 server in srv for one test and a client in
// cli, and returns the bytes the server received.
func parityIperf(t *testing.T, cli, srv *node, addr string, args ...string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scenarioCmdTimeout)
	defer cancel()
	server := srv.ns.Command(ctx, "iperf3", "-s", "-1", "-B", addr, "-p", "5201")
	var serverOut strings.Builder
	server.Stdout, server.Stderr = &serverOut, &serverOut
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = server.Wait() }()
	type report struct {
		Error string `json:"error"`
		End   struct {
			SumReceived struct {
				Bytes uint64 `json:"bytes"`
			} `json:"sum_received"`
			Sum struct {
				Bytes   uint64  `json:"bytes"`
				LostPct float64 `json:"lost_percent"`
			} `json:"sum"`
		} `json:"end"`
	}
	var r report
	for deadline := time.Now().Add(5 * time.Second); ; {
		// The server needs a moment to listen. (iperf3 -J may exit 0
		// after an error; the report says.)
		out, err := cli.exec(nil, "iperf3", append([]string{"-J", "-c", addr, "-p", "5201"}, args...)...)
		r = report{}
		if jerr := json.Unmarshal([]byte(out), &r); jerr != nil && err == nil {
			err = jerr
		}
		if err == nil && r.Error == "" {
			break
		}
		if time.Now().After(deadline) || !strings.Contains(out, "unable to connect") {
			t.Fatalf("iperf3 -c %s %v: %v %s\n%s\nserver:\n%s", addr, args, err, r.Error, out, serverOut.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.End.SumReceived.Bytes > 0 {
		return r.End.SumReceived.Bytes
	}
	// UDP: the client reports what the server got, less what was lost.
	return uint64(float64(r.End.Sum.Bytes) * (100 - r.End.Sum.LostPct) / 100)
}

// parityManyAllowedIPs: one peer with 130,000 allowed IPs (IPv4 /32s across
// 10.240.0.0/14 and their IPv6 twins), set with wg setconf: the device holds
// and shows all of them, and routes to the last one.
func parityManyAllowedIPs(p *parityRun) {
	t := p.t
	a, b := p.pair(false)
	const n = 130000
	var conf strings.Builder
	fmt.Fprintf(&conf, "[Interface]\nPrivateKey = %s\nListenPort = %d\n\n[Peer]\nPublicKey = %s\nEndpoint = 10.230.0.2:51821\nAllowedIPs = 10.231.0.2/32\n", a.key.private, a.port, b.key.public)
	for i := range n - 1 {
		fmt.Fprintf(&conf, "AllowedIPs = 10.%d.%d.%d/32\n", 240+i>>16, i>>8&255, i&255)
	}
	file := filepath.Join(a.n.dir, "many.conf")
	if err := os.WriteFile(file, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	a.wg("setconf", a.iface, file)
	out := a.wg("show", a.iface, "allowed-ips")
	if got := len(strings.Fields(out)) - 1; got != n {
		t.Fatalf("a shows %d allowed IPs, want %d", got, n)
	}
	last := fmt.Sprintf("10.%d.%d.%d", 240+(n-2)>>16, (n-2)>>8&255, (n-2)&255)
	b.n.ip("address", "add", last+"/32", "dev", b.iface)
	b.wg("set", b.iface, "peer", a.key.public, "allowed-ips", "10.231.0.1/32,10.240.0.0/14")
	a.n.ip("route", "add", "10.240.0.0/14", "dev", a.iface)
	a.n.mustReach(last)
}
