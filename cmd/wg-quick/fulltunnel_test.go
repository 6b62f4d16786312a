package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/nettest"
)

const (
	// ftInternetV4 and ftInternetV6 are the "internet host", on the
	// loopback of the internet namespace, reachable only through the
	// server.
	ftInternetV4 = "198.51.100.1"
	ftInternetV6 = "2001:db8::1"
	// ftMasqV4 and ftMasqV6 are the server's addresses towards the
	// internet, which the client's tunnelled traffic is masqueraded to.
	ftMasqV4 = "203.0.113.1"
	ftMasqV6 = "2001:db8:ffff::1"
	// ftServerUnderlay is the server's address on the client's underlay,
	// the client's endpoint.
	ftServerUnderlay = "192.0.2.1"
	// ftPingDeadline bounds each ping through the tunnel (-w); the first
	// one includes the handshake.
	ftPingDeadline = "10"
	// ftUDPTimeout bounds how long the internet host waits for a datagram.
	ftUDPTimeout = 5 * time.Second
)

// TestFullTunnel brings up a full tunnel (AllowedIPs = 0.0.0.0/0, ::/0,
// Table auto) with our wg-quick in a client namespace whose own default
// route points at the server over the underlay. The server (a reference
// wireguard-go) forwards and masquerades tunnelled traffic to an internet
// namespace, and forwards nothing that arrives over the underlay. The test
// proves that:
//
//   - the internet host is unreachable before up and reachable after it,
//     over IPv4 and IPv6 (ping), and its UDP listener sees the server's
//     masqueraded address as the source: the traffic went through the
//     tunnel;
//   - the server's WireGuard link received it (its rx counter grew) and the
//     client's peer completed a handshake;
//   - the tunnel's own UDP does not loop into the tunnel: packets marked
//     with the fwmark, and packets to the server's underlay address (thanks
//     to the suppress_prefixlength 0 rule), route via the underlay veth;
//   - after down, addresses, routes and rules of all tables, nftables and
//     links in the client namespace are exactly as before up
//     (src_valid_mark excepted, which wg-quick never restores), and no
//     daemon, socket or journal is left.
func TestFullTunnel(t *testing.T) {
	tools := eqRequireTools(t)
	client, server, internet := nettest.NewNetNS(t), nettest.NewNetNS(t), nettest.NewNetNS(t)
	for _, ns := range []*nettest.NetNS{client, server, internet} {
		// No DAD: IPv6 addresses are usable at once and link-local ones
		// are never "tentative" in a snapshot.
		ns.Run(t, "sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
	}
	nettest.Veth(t, client, "under0", "192.0.2.2/24", server, "wan0", ftServerUnderlay+"/24")
	client.Run(t, "ip", "route", "add", "default", "via", ftServerUnderlay)
	nettest.Veth(t, server, "inet0", ftMasqV4+"/24", internet, "up0", "203.0.113.2/24")
	server.Run(t, "ip", "-6", "address", "add", ftMasqV6+"/64", "dev", "inet0", "nodad")
	internet.Run(t, "ip", "-6", "address", "add", "2001:db8:ffff::2/64", "dev", "up0", "nodad")
	// The internet knows no route to the tunnel's addresses nor to the
	// underlay: only masqueraded traffic can get an answer.
	internet.Run(t, "ip", "address", "add", ftInternetV4+"/32", "dev", "lo")
	internet.Run(t, "ip", "-6", "address", "add", ftInternetV6+"/128", "dev", "lo")

	clientKey, serverKey := ftMustKey(), ftMustKey()
	srvIF := nettest.UniqueIfName(t, "ftsrv")
	ftStartServer(t, tools, server, srvIF, serverKey, clientKey.PublicKey())
	server.Run(t, "ip", "route", "add", ftInternetV4+"/32", "via", "203.0.113.2")
	server.Run(t, "ip", "-6", "route", "add", ftInternetV6+"/128", "via", "2001:db8:ffff::2")

	// Before up the internet host is out of reach: the server forwards
	// nothing from the underlay.
	for _, dst := range []string{ftInternetV4, ftInternetV6} {
		ctx, cancel := context.WithTimeout(t.Context(), eqRunTimeout)
		out, err := client.Command(ctx, "ping", "-n", "-c", "1", "-W", "1", dst).CombinedOutput()
		cancel()
		if err == nil {
			t.Fatalf("ping %s from the client succeeded before up; the test's server forwards underlay traffic:\n%s", dst, out)
		}
	}

	s := eqNewSide(t, "ours", tools.ourQuick, nil, client, nettest.UniqueIfName(t, "ftc"))
	s.writeConfig(t, fmt.Sprintf(`[Interface]
PrivateKey = %s
Address = 10.200.0.2/24, fd20::2/64
DNS = 10.200.0.1

[Peer]
PublicKey = %s
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = %s:51820
`, clientKey, serverKey.PublicKey(), ftServerUnderlay))

	before := eqSnapshot(t, s)
	t.Logf("wg-quick up:\n%s", s.mustRun(t, "up"))

	// Routing decisions in the client.
	for _, tt := range []struct {
		args []string
		want string // a regexp the output must match
	}{
		// Unmarked traffic to the internet goes into the tunnel.
		{[]string{"-4", "route", "get", ftInternetV4}, `\bdev ` + regexp.QuoteMeta(s.ifname) + `\b.*\btable 51820\b`},
		{[]string{"-6", "route", "get", ftInternetV6}, `\bdev ` + regexp.QuoteMeta(s.ifname) + `\b.*\btable 51820\b`},
		// The tunnel's own UDP carries fwmark 51820 and takes the
		// underlay's default route.
		{[]string{"-4", "route", "get", ftInternetV4, "mark", "51820"}, `\bvia ` + ftServerUnderlay + ` dev under0\b`},
		// An unmarked packet to the server's underlay address uses the
		// main table's more specific route (suppress_prefixlength 0),
		// not the tunnel.
		{[]string{"-4", "route", "get", ftServerUnderlay, "mark", "0"}, `^` + ftServerUnderlay + ` dev under0\b`},
	} {
		out := client.Run(t, "ip", tt.args...)
		if !regexp.MustCompile(tt.want).MatchString(out) {
			t.Errorf("ip %s in the client = %q, want a match for %q", strings.Join(tt.args, " "), out, tt.want)
		}
	}

	rxBefore := ftRxBytes(t, server, srvIF)
	client.Run(t, "ping", "-n", "-c", "1", "-w", ftPingDeadline, ftInternetV4)
	client.Run(t, "ping", "-n", "-6", "-c", "1", "-w", ftPingDeadline, ftInternetV6)
	ftCheckSource(t, client, internet, "udp4", ftInternetV4, ftMasqV4)
	ftCheckSource(t, client, internet, "udp6", ftInternetV6, ftMasqV6)

	if rx := ftRxBytes(t, server, srvIF); rx <= rxBefore {
		t.Errorf("server's %s received %d bytes before the pings and %d after; want growth", srvIF, rxBefore, rx)
	}
	hs := client.Run(t, tools.refWG, "show", s.ifname, "latest-handshakes")
	if f := strings.Fields(hs); len(f) != 2 || f[1] == "0" {
		t.Errorf("client's latest handshake: %q, want a non-zero time", hs)
	}
	tr := client.Run(t, tools.refWG, "show", s.ifname, "transfer")
	if f := strings.Fields(tr); len(f) != 3 || f[1] == "0" || f[2] == "0" {
		t.Errorf("client's transfer: %q, want bytes received and sent", tr)
	}

	t.Logf("wg-quick down:\n%s", s.mustRun(t, "down"))
	s.requireGone(t)
	ftRequireRestored(t, s, before)
}

// ftMustKey returns a new private key.
func ftMustKey() wgtypes.Key {
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		panic(err)
	}
	return k
}

// ftStartServer runs the server: a reference wireguard-go device ifname
// (10.200.0.1/24, fd20::1/64, port 51820, key) with the client as its peer,
// forwarding, masquerading what comes out of the tunnel towards the
// internet and forwarding nothing that arrives over the underlay.
func ftStartServer(t *testing.T, tools eqTools, server *nettest.NetNS, ifname string, key, client wgtypes.Key) {
	t.Helper()
	nettest.StartWireGuardGo(t, server, ifname)
	keyFile := filepath.Join(t.TempDir(), "server.key")
	if err := os.WriteFile(keyFile, []byte(key.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	server.Run(t, tools.refWG, "set", ifname, "private-key", keyFile, "listen-port", "51820",
		"peer", client.String(), "allowed-ips", "10.200.0.2/32,fd20::2/128")
	server.Run(t, "ip", "address", "add", "10.200.0.1/24", "dev", ifname)
	server.Run(t, "ip", "-6", "address", "add", "fd20::1/64", "dev", ifname, "nodad")
	server.Run(t, "ip", "link", "set", "dev", ifname, "up")
	server.Run(t, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
	rules := filepath.Join(t.TempDir(), "server.nft")
	if err := os.WriteFile(rules, []byte(fmt.Sprintf(`table inet ftserver {
	chain ftpost {
		type nat hook postrouting priority srcnat;
		iifname %q oifname "inet0" masquerade
	}
	chain ftforward {
		type filter hook forward priority filter;
		iifname "wan0" drop
	}
}
`, ifname)), 0o600); err != nil {
		t.Fatal(err)
	}
	server.Run(t, "nft", "-f", rules)
}

// ftRxBytes returns the bytes link ifname in ns has received.
func ftRxBytes(t *testing.T, ns *nettest.NetNS, ifname string) uint64 {
	t.Helper()
	out := ns.Run(t, "ip", "-j", "-s", "link", "show", "dev", ifname)
	var links []struct {
		Stats64 struct {
			RX struct {
				Bytes uint64 `json:"bytes"`
			} `json:"rx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		t.Fatalf("parsing ip -j -s link show dev %s: %v\n%s", ifname, err, out)
	}
	return links[0].Stats64.RX.Bytes
}

// ftCheckSource sends UDP datagrams from the client to a listener on the
// internet host dst and requires them to arrive from wantSrc, the server's
// masqueraded address.
func ftCheckSource(t *testing.T, client, internet *nettest.NetNS, network, dst, wantSrc string) {
	t.Helper()
	var ln net.PacketConn
	if err := internet.Do(func() (err error) {
		ln, err = net.ListenPacket(network, net.JoinHostPort(dst, "0"))
		return err
	}); err != nil {
		t.Fatalf("listening on %s in the internet namespace: %v", dst, err)
	}
	defer ln.Close()
	var conn net.Conn
	if err := client.Do(func() (err error) {
		conn, err = net.Dial(network, ln.LocalAddr().String())
		return err
	}); err != nil {
		t.Fatalf("dialling %s from the client: %v", ln.LocalAddr(), err)
	}
	defer conn.Close()

	// Datagrams may be lost; send one every 100 ms until one arrives.
	deadline := time.Now().Add(ftUDPTimeout)
	buf := make([]byte, 64)
	for {
		if _, err := conn.Write([]byte("through the tunnel")); err != nil {
			t.Fatalf("sending to %s from the client: %v", ln.LocalAddr(), err)
		}
		if err := ln.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		_, from, err := ln.ReadFrom(buf)
		var ne net.Error
		switch {
		case err == nil:
			if got := from.(*net.UDPAddr).IP.String(); got != wantSrc {
				t.Errorf("the internet host %s got the client's datagram from %s, want the server's masqueraded address %s", dst, got, wantSrc)
			}
			return
		case errors.As(err, &ne) && ne.Timeout() && time.Now().Before(deadline):
		default:
			t.Fatalf("the internet host %s received nothing from the client within %v: %v", dst, ftUDPTimeout, err)
		}
	}
}

// ftRequireRestored requires the client namespace to be as it was before
// up, except src_valid_mark: wg-quick sets it for a full tunnel and never
// restores it (spec 12.6.1 step 3).
func ftRequireRestored(t *testing.T, s *eqSide, before eqState) {
	t.Helper()
	after := eqSnapshot(t, s)
	after.SrcValidMark = before.SrcValidMark
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("client namespace after down differs from before up (-before +after):\n%s", diff)
	}
}

// TestFullTunnelTwoInterfaces brings up two full tunnels in one namespace.
// The second must pick the next free table and fwmark (51821), and taking
// the first down must leave the second's rules (its `not fwmark` rule and a
// `suppress_prefixlength 0` rule, in both families), route table and nft
// tables in place; the reference would delete every suppress_prefixlength 0
// rule (spec 15.2 item 11). After the second is down too the namespace is as
// before.
func TestFullTunnelTwoInterfaces(t *testing.T) {
	tools := eqRequireTools(t)
	client := nettest.NewNetNS(t)
	eqUnderlay(t, client, nettest.NewNetNS(t), "peer0")
	first := eqNewSide(t, "ours", tools.ourQuick, nil, client, nettest.UniqueIfName(t, "fta"))
	second := eqNewSide(t, "ours", tools.ourQuick, nil, client, nettest.UniqueIfName(t, "ftb"))
	for i, s := range []*eqSide{first, second} {
		s.writeConfig(t, fmt.Sprintf(`[Interface]
PrivateKey = %s
Address = 10.20%d.0.2/24, fd2%d::2/64

[Peer]
PublicKey = %s
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = 192.0.2.1:5182%d
`, ftMustKey(), i+1, i+1, ftMustKey().PublicKey(), i))
	}

	before := eqSnapshot(t, first)
	t.Logf("first up:\n%s", first.mustRun(t, "up"))
	t.Logf("second up:\n%s", second.mustRun(t, "up"))
	for _, c := range []struct {
		s    *eqSide
		want string
	}{{first, "0xca6c"}, {second, "0xca6d"}} {
		out := client.Run(t, tools.refWG, "show", c.s.ifname, "fwmark")
		if got := strings.TrimSpace(out); got != c.want {
			t.Errorf("fwmark of %s = %q, want %q", c.s.ifname, got, c.want)
		}
	}
	for _, f := range []string{"-4", "-6"} {
		rules := client.Run(t, "ip", f, "rule")
		for _, want := range []string{"not from all fwmark 0xca6c lookup 51820", "not from all fwmark 0xca6d lookup 51821"} {
			if !strings.Contains(rules, want) {
				t.Errorf("ip %s rule with both tunnels up lacks %q:\n%s", f, want, rules)
			}
		}
		if n := strings.Count(rules, "from all lookup main suppress_prefixlength 0"); n != 2 {
			t.Errorf("ip %s rule with both tunnels up has %d suppress_prefixlength 0 rules, want 2:\n%s", f, n, rules)
		}
	}

	t.Logf("first down:\n%s", first.mustRun(t, "down"))
	first.requireGone(t)
	wantRules := map[string]string{
		"-4": "0:\tfrom all lookup local\n32762:\tfrom all lookup main suppress_prefixlength 0\n32763:\tnot from all fwmark 0xca6d lookup 51821\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n",
		"-6": "0:\tfrom all lookup local\n32762:\tfrom all lookup main suppress_prefixlength 0\n32763:\tnot from all fwmark 0xca6d lookup 51821\n32766:\tfrom all lookup main\n",
	}
	for _, f := range []string{"-4", "-6"} {
		if diff := cmp.Diff(wantRules[f], client.Run(t, "ip", f, "rule")); diff != "" {
			t.Errorf("ip %s rule after the first tunnel went down: the second's rules must stay (-want +got):\n%s", f, diff)
		}
		if out := client.Run(t, "ip", f, "route", "show", "table", "51821"); !strings.Contains(out, "default dev "+second.ifname) {
			t.Errorf("ip %s route show table 51821 after the first tunnel went down = %q, want the second's default route", f, out)
		}
	}
	tables := client.Run(t, "nft", "list", "tables")
	for _, want := range []string{"table ip wg-quick-" + second.ifname, "table ip6 wg-quick-" + second.ifname} {
		if !strings.Contains(tables, want+"\n") {
			t.Errorf("nft list tables after the first tunnel went down lacks %q:\n%s", want, tables)
		}
	}
	if strings.Contains(tables, "wg-quick-"+first.ifname) {
		t.Errorf("nft list tables after the first tunnel went down still has its tables:\n%s", tables)
	}
	if out := client.Run(t, "ip", "-4", "route", "get", ftInternetV4); !strings.Contains(out, "dev "+second.ifname) {
		t.Errorf("ip -4 route get %s with the second tunnel up = %q, want it through %s", ftInternetV4, out, second.ifname)
	}

	t.Logf("second down:\n%s", second.mustRun(t, "down"))
	second.requireGone(t)
	ftRequireRestored(t, first, before)
}
