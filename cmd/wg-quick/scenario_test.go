package main

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The scenario tests take the project's two seed topologies and make them
// work as written, with our wg-quick and wg, one network namespace per host.
// The configuration files are the seeds' (testdata/seeds), with only what
// cannot work here substituted: generated keys for the placeholders of the
// five-node example, and underlay addresses for the Endpoint host names
// (there is no DNS here). Each test brings every node up, checks that the
// VPN carries traffic the way the seed means it to, takes every node down
// and checks that nothing is left behind.

// fiveNodes are the hosts of the five-node example
// (testdata/seeds/five-node, from "The Missing WireGuard Documentation"):
// the bounce server public-server1, and four peers that each know only it.
var fiveNodes = []struct {
	name   string // file name in the seed, without .conf
	host   string // name in the seed's key placeholders and endpoints
	prefix string // interface name prefix
}{
	{name: "public-server1", host: "public-server1.example-vpn.tld", prefix: "psa"},
	{name: "public-server2", host: "public-server2.example-vpn.dev", prefix: "psb"},
	{name: "home-server", host: "home-server.example-vpn.dev", prefix: "home"},
	{name: "laptop", host: "laptop.example-vpn.dev", prefix: "lap"},
	{name: "phone", host: "phone.example-vpn.dev", prefix: "phone"},
}

// TestScenarioFiveNode runs the five-node example: every node has a public
// uplink to one Internet router, public-server1 bounces traffic between the
// others (it forwards, and its Address 10.0.0.1/24 routes the whole VPN
// subnet back into the tunnel), and every node sets DNS = 1.1.1.1.
func TestScenarioFiveNode(t *testing.T) {
	s := newScenario(t)
	internet := s.newInternet()

	nodes := make(map[string]*node)
	public := make(map[string]netip.Addr) // host name → underlay address
	keys := make(map[string]keyPair)      // host name → keys
	for _, fn := range fiveNodes {
		n := s.newNode(fn.name)
		nodes[fn.name] = n
		public[fn.host] = internet.connect(n, "eth0")
		keys[fn.host] = s.genKeyPair()
	}
	server1 := nodes["public-server1"]
	// A bounce server "has kernel-level IP forwarding turned on".
	server1.sysctl("net.ipv4.ip_forward", "1")

	before := make(map[string]string)
	for _, fn := range fiveNodes {
		n := nodes[fn.name]
		n.configure(fn.prefix, seedConfig(t, "five-node/"+fn.name+".conf", keys, public))
		before[fn.name] = n.netState()
	}
	for _, fn := range fiveNodes {
		nodes[fn.name].wgQuickUp()
	}
	for _, fn := range fiveNodes {
		n := nodes[fn.name]
		n.checkResolvconfLog(fmt.Sprintf("resolvconf -a %s -m 0 -x\nnameserver 1.1.1.1\n(end of stdin)\n", resolvconfRecord(n.iface)))
	}

	// Peers that only know the bounce server reach each other through it.
	nodes["laptop"].mustReach("10.0.0.5")         // phone
	nodes["home-server"].mustReach("10.0.0.2")    // public-server2
	nodes["public-server2"].mustReach("10.0.0.3") // home-server, back
	server1.waitHandshakes(map[string]string{
		"public-server2": keys["public-server2.example-vpn.dev"].public,
		"home-server":    keys["home-server.example-vpn.dev"].public,
		"laptop":         keys["laptop.example-vpn.dev"].public,
		"phone":          keys["phone.example-vpn.dev"].public,
	})

	for _, fn := range fiveNodes {
		nodes[fn.name].wgQuickDown()
	}
	for _, fn := range fiveNodes {
		n := nodes[fn.name]
		n.checkDown(before[fn.name])
		rec := resolvconfRecord(n.iface)
		n.checkResolvconfLog(fmt.Sprintf("resolvconf -a %s -m 0 -x\nnameserver 1.1.1.1\n(end of stdin)\nresolvconf -d %s -f\n", rec, rec))
	}
}

// TestScenarioNATSites runs the two-sites-behind-NAT example
// (testdata/seeds/nat-sites, from "WireGuard Notes"): a public host, and on
// each of two LANs behind masquerading routers a WireGuard host (Table =
// off, routes added in PostUp) and an ordinary host routed through it. The
// seed's keys are used as written.
func TestScenarioNATSites(t *testing.T) {
	s := newScenario(t)
	internet := s.newInternet()

	// The public host, example.com in the seed.
	public := s.newNode("public")
	publicAddr := internet.connect(public, "eth0")

	// Network 1, 192.168.1.0/24, behind nat1; Network 2, 172.16.1.0/24,
	// behind nat2. The WireGuard hosts are .10 and the others .20.
	nat1, nat2 := s.newNode("nat1"), s.newNode("nat2")
	nat1WAN := internet.connect(nat1, "wan")
	nat2WAN := internet.connect(nat2, "wan")
	nat1.masquerade("wan")
	nat2.masquerade("wan")
	network1, network2 := nat1.newLAN("192.168.1.1/24"), nat2.newLAN("172.16.1.1/24")
	site1, lan1 := s.newNode("site1"), s.newNode("lan1")
	site2, lan2 := s.newNode("site2"), s.newNode("lan2")
	network1.attach(site1, "192.168.1.10")
	network1.attach(lan1, "192.168.1.20")
	network2.attach(site2, "172.16.1.10")
	network2.attach(lan2, "172.16.1.20")

	// "All three hosts should enable forwarding", and the other hosts
	// route the VPN and the other network through their WireGuard host.
	for _, n := range []*node{public, site1, site2} {
		n.sysctl("net.ipv4.ip_forward", "1")
	}
	lan1.ip("-4", "route", "add", "10.1.1.0/24", "via", "192.168.1.10")
	lan1.ip("-4", "route", "add", "172.16.1.0/24", "via", "192.168.1.10")
	lan2.ip("-4", "route", "add", "10.1.1.0/24", "via", "172.16.1.10")
	lan2.ip("-4", "route", "add", "192.168.1.0/24", "via", "172.16.1.10")

	// The seed's keys are real: each private key matches the public key
	// its peers are given.
	for priv, want := range map[string]string{
		"4DQYFpL2kkVd/rjEYLTES8Ah6K2BMOrH504TXRQyv0E=": "D+GcHTk8uRiggEj79IhbbsLWHSdZynYjUVPWcP8aJFg=", // site1
		"CPZBHHLywkMqgW70MIgnvJRculKKGyYaBP7rIUJbpXs=": "up9LDZjYw8/LHH29ZQdp7Mg9bB+LIE7T4OsYLlEXLng=", // site2
		"kKELbYxqmwHGUyjdHiVhQ/lzyiLep2kLgAocLF4CR3Q=": "2LbLqgg0hGjsQ+Y15l+mPhEtGN53Uhvzj8n9dpxVqDQ=", // public
	} {
		if got := s.pubkey(priv); got != want {
			t.Fatalf("wg pubkey of the seed's private key %s = %s, want %s", priv, got, want)
		}
	}
	site1Key, site2Key := "D+GcHTk8uRiggEj79IhbbsLWHSdZynYjUVPWcP8aJFg=", "up9LDZjYw8/LHH29ZQdp7Mg9bB+LIE7T4OsYLlEXLng="

	hosts := map[string]netip.Addr{"example.com": publicAddr}
	wgHosts := []*node{public, site1, site2}
	public.configure("pub", seedConfig(t, "nat-sites/public.conf", nil, hosts))
	site1.configure("sitea", seedConfig(t, "nat-sites/site1.conf", nil, hosts))
	site2.configure("siteb", seedConfig(t, "nat-sites/site2.conf", nil, hosts))
	before := make(map[*node]string)
	for _, n := range wgHosts {
		before[n] = n.netState()
	}
	for _, n := range wgHosts {
		n.wgQuickUp()
	}

	// Table = off: wg-quick routes none of the AllowedIPs (which include
	// the site's own LAN); only the PostUp routes go into the tunnel.
	for n, want := range map[*node][]string{
		site1: {"10.1.1.0/24 scope link", "172.16.1.0/24 scope link"},
		site2: {"10.1.1.0/24 scope link", "192.168.1.0/24 scope link"},
	} {
		if diff := cmp.Diff(want, n.routes(n.iface)); diff != "" {
			t.Errorf("%s: unexpected routes through %s (-want +got):\n%s", n.name, n.iface, diff)
		}
	}

	// Hosts on either network reach each other, and the public host's
	// VPN address, through both NATs.
	lan1.mustReach("172.16.1.20")
	lan2.mustReach("192.168.1.20")
	lan1.mustReach("10.1.1.1")
	lan2.mustReach("10.1.1.1")

	// The public host learnt the sites' endpoints from their handshakes:
	// their routers' public addresses, as NAT made them.
	public.waitHandshakes(map[string]string{"site1": site1Key, "site2": site2Key})
	endpoints := public.wgShow("endpoints")
	for name, want := range map[string]struct {
		key string
		wan netip.Addr
	}{"site1": {site1Key, nat1WAN}, "site2": {site2Key, nat2WAN}} {
		ep, err := netip.ParseAddrPort(endpoints[want.key])
		if err != nil || ep.Addr() != want.wan {
			t.Errorf("public: endpoint of %s = %q, want %v:PORT (behind NAT)", name, endpoints[want.key], want.wan)
		}
	}

	for _, n := range wgHosts {
		n.wgQuickDown()
	}
	for _, n := range wgHosts {
		n.checkDown(before[n])
		n.checkResolvconfLog("") // no DNS = in these files
	}
}
