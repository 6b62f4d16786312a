package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wgtools/wgtools/internal/nettest"
)

// internet is a router namespace standing for the Internet. Every node
// connected to it gets an uplink of its own, 10.250.N.0/24, with the router
// at .1 and the node at .2, and a default route through it; the router
// forwards between the uplinks. 10.250.0.0/16 stays clear of the VPN
// subnets of the seeds.
type internet struct {
	*node
	uplinks int
}

// newInternet creates the Internet router.
func (s *scenario) newInternet() *internet {
	s.t.Helper()
	in := &internet{node: s.newNode("internet")}
	in.sysctl("net.ipv4.ip_forward", "1")
	return in
}

// connect gives n an uplink to the Internet, named wan in n's namespace and
// after n in the router's, and returns n's public address.
func (in *internet) connect(n *node, wan string) netip.Addr {
	n.t.Helper()
	i := in.uplinks
	in.uplinks++
	addr := netip.AddrFrom4([4]byte{10, 250, byte(i), 2})
	nettest.Veth(n.t, n.ns, wan, addr.String()+"/24", in.ns, n.name, fmt.Sprintf("10.250.%d.1/24", i))
	n.ip("route", "add", "default", "via", fmt.Sprintf("10.250.%d.1", i))
	return addr
}

// masquerade makes n a NAT router: it forwards, and rewrites the source of
// everything leaving through wan to wan's address, as a home router does.
func (n *node) masquerade(wan string) {
	n.t.Helper()
	n.sysctl("net.ipv4.ip_forward", "1")
	n.run("iptables", "-t", "nat", "-A", "POSTROUTING", "-o", wan, "-j", "MASQUERADE")
}

// lan is an Ethernet segment: a bridge in its router's namespace, the
// router's LAN address on the bridge.
type lan struct {
	router  *node
	gateway netip.Addr
	bits    int
	ports   int
}

// newLAN gives router a LAN with the router address addr (CIDR).
func (n *node) newLAN(addr string) *lan {
	n.t.Helper()
	p := nettest.MustPrefix(addr)
	n.ip("link", "add", "br0", "type", "bridge")
	n.ip("address", "add", p.String(), "dev", "br0")
	n.ip("link", "set", "dev", "br0", "up")
	return &lan{router: n, gateway: p.Addr(), bits: p.Bits()}
}

// attach plugs host into the LAN as eth0 with address addr (without a
// prefix length; the LAN's applies) and a default route via the router.
func (l *lan) attach(host *node, addr string) {
	host.t.Helper()
	port := fmt.Sprintf("port%d", l.ports)
	l.ports++
	host.ip("link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", l.router.ns.Name)
	l.router.ip("link", "set", "dev", port, "master", "br0", "up")
	host.ip("address", "add", fmt.Sprintf("%s/%d", addr, l.bits), "dev", "eth0")
	host.ip("link", "set", "dev", "eth0", "up")
	host.waitRunning("eth0")
	l.router.waitRunning(port)
	host.ip("route", "add", "default", "via", l.gateway.String())
}

// mustReach pings addr from the node until a reply comes, at most for
// reachTimeout, and fails the test if none does.
func (n *node) mustReach(addr string) {
	n.t.Helper()
	deadline := time.Now().Add(reachTimeout)
	for {
		out, err := n.exec(nil, "ping", "-n", "-c", "1", "-W", "1", addr)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s cannot reach %s within %v:\n%s", n.name, addr, reachTimeout, out)
		}
	}
}

// seedDir is where the seed topologies' configuration files are.
var seedDir = filepath.Join("..", "..", "testdata", "seeds")

var placeholderRE = regexp.MustCompile(`<(private|public) key for ([^<>]+)>`)

// seedConfig reads a seed configuration file and makes it usable, changing
// nothing else: each `<private key for HOST>` and `<public key for HOST>`
// becomes HOST's key from keys, and in Endpoint lines each host name
// becomes its address from hosts, since these machines have no DNS (let
// alone records for example.com). The test fails if a placeholder or an
// Endpoint host name is left unknown.
func seedConfig(t *testing.T, file string, keys map[string]keyPair, hosts map[string]netip.Addr) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(seedDir, file))
	if err != nil {
		t.Fatal(err)
	}
	text := placeholderRE.ReplaceAllStringFunc(string(b), func(m string) string {
		sub := placeholderRE.FindStringSubmatch(m)
		kp, ok := keys[sub[2]]
		if !ok {
			t.Fatalf("%s: no key for %s", file, sub[2])
		}
		if sub[1] == "private" {
			return kp.private
		}
		return kp.public
	})
	var out strings.Builder
	for line := range strings.Lines(text) {
		key, value, ok := strings.Cut(line, "=")
		if ok && strings.EqualFold(strings.TrimSpace(key), "Endpoint") {
			host, port, err := net.SplitHostPort(strings.TrimSpace(value))
			if err != nil {
				t.Fatalf("%s: %q: %v", file, line, err)
			}
			addr, ok := hosts[host]
			if !ok {
				t.Fatalf("%s: no address for endpoint host %s", file, host)
			}
			line = strings.Replace(line, host+":"+port, net.JoinHostPort(addr.String(), port), 1)
		}
		out.WriteString(line)
	}
	return out.String()
}
