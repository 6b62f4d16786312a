package main

import (
	"testing"

	"github.com/wgtools/wgtools/internal/nettest"
)

// eqCase is one configuration brought up and down by the reference and by
// ours.
type eqCase struct {
	name string
	// config is the file's text; {{DIR}} becomes the side's directory and
	// {{KEY}}, {{PEER1}}, {{PEER2}} and {{PSK}} fresh keys.
	config string
	// setup runs in both namespaces after the underlay is up.
	setup func(t *testing.T, ns *nettest.NetNS)
	// srcValidMarkSet says setup set net.ipv4.conf.all.src_valid_mark to 1.
	srcValidMarkSet bool
	// iptables runs the reference without nft in its PATH, so it installs
	// the full-tunnel rules with iptables-restore, and ours with
	// WG_QUICK_FIREWALL=iptables (its fallback where the kernel has no
	// nf_tables, which this kernel has).
	iptables bool
}

// eqHooks are hooks that leave a file behind for each phase. PostUp carries
// a comment: the installed Debian wg-quick strips it before bash sees it,
// upstream (and ours) pass it to bash, which ignores it.
const eqHooks = `PreUp = echo "preup %i" > {{DIR}}/hook-preup-%i

PostUp = echo "postup %i" > {{DIR}}/hook-postup-%i # upstream passes this comment to bash
PreDown = echo "predown %i" > {{DIR}}/hook-predown-%i
PostDown = echo "postdown %i" > {{DIR}}/hook-postdown-%i
`

// eqFullTunnel is the plainest full tunnel, both families through one
// peer; several cases vary the namespace around it.
const eqFullTunnel = `[Interface]

PrivateKey = {{KEY}}
Address = 10.77.0.2/24, fd77::2/64

[Peer]
PublicKey = {{PEER1}}
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = 192.0.2.1:51820
`

var eqCases = []eqCase{{
	// Two addresses, DNS servers and search domains, auto MTU, two peers;
	// 10.77.0.0/24 and fd77::/64 are covered by the connected routes of
	// the addresses, so wg-quick adds no route for them.
	name: "plain",
	config: `[Interface]
PrivateKey = {{KEY}}
Address = 10.77.0.2/24
Address = fd77::2/64
DNS = 10.77.0.53, fd77::53, example.com, corp.example
` + eqHooks + `
[Peer]
PublicKey = {{PEER1}}
PresharedKey = {{PSK}}
AllowedIPs = 10.77.0.0/24, 10.88.0.0/16, fd88::/64
Endpoint = 192.0.2.1:51820

[Peer]
PublicKey = {{PEER2}}
AllowedIPs = 10.99.1.0/24, 10.99.2.7/32, fd77::/64, fd99::/56
Endpoint = [2001:db8:2::1]:51820
PersistentKeepalive = 25
`,
}, {
	// Every allowed IP, covered or /0, goes into the table, and no policy
	// rule is added. A search domain without a nameserver is ignored.
	name: "table1234",
	config: `[Interface]
PrivateKey = {{KEY}}
ListenPort = 51820
Address = 10.77.0.2/24, fd77::2/64
Table = 1234
DNS = example.org
` + eqHooks + `
[Peer]
PublicKey = {{PEER1}}
AllowedIPs = 10.77.0.0/24, 10.88.0.0/16, fd88::/64, 0.0.0.0/0, ::/0
Endpoint = 192.0.2.1:51820
`,
}, {
	// Addresses without a prefix length: ip(8) makes them /32 and /128;
	// wg-quick passes them on as written.
	name: "bareaddresses",
	config: `[Interface]
PrivateKey = {{KEY}}
Address = 10.98.0.3, fd98::3

[Peer]
PublicKey = {{PEER1}}
AllowedIPs = 10.88.0.0/16, fd88::/64
Endpoint = 192.0.2.1:51820
`,
}, {
	// A table given by name: ip(8) resolves it, wg-quick passes it on
	// verbatim.
	name: "tablemain",
	config: `[Interface]
PrivateKey = {{KEY}}
Address = 10.77.0.2/24, fd77::2/64
Table = main

[Peer]
PublicKey = {{PEER1}}
AllowedIPs = 10.88.0.0/16, fd88::/64, 0.0.0.0/0, ::/0
Endpoint = 192.0.2.1:51820
`,
}, {
	// No routes at all; the MTU is the configured one.
	name: "tableoff",
	config: `[Interface]
PrivateKey = {{KEY}}
FwMark = 0x1234
Address = 10.77.0.2/24, fd77::2/64
MTU = 1380
Table = off
DNS = 10.77.0.53

[Peer]
PublicKey = {{PEER1}}
AllowedIPs = 10.88.0.0/16, 0.0.0.0/0, ::/0
Endpoint = 192.0.2.1:51820
`,
}, {
	// Full tunnel: fwmark and table 51820, two rules per family, the nft
	// tables wg-quick-IF, src_valid_mark.
	name: "fulltunnel",
	config: `[Interface]
PrivateKey = {{KEY}}
Address = 10.77.0.2/24, fd77::2/64
DNS = 10.77.0.53, example.com
` + eqHooks + `
[Peer]
PublicKey = {{PEER1}}
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = 192.0.2.1:51820
`,
}, {
	// Full tunnel where src_valid_mark is already 1: upstream (and ours)
	// skip the sysctl.
	name:   "fulltunnel_srcvalidmark",
	config: eqFullTunnel,
	setup: func(t *testing.T, ns *nettest.NetNS) {
		ns.Run(t, "sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark=1")
	},
	srcValidMarkSet: true,
}, {
	// Full tunnel with a configured FwMark: it is the table too.
	name: "fulltunnel_fwmark",
	config: `[Interface]
PrivateKey = {{KEY}}
FwMark = 0x1234
Address = 10.77.0.2/24, fd77::2/64

[Peer]
PublicKey = {{PEER1}}
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = 192.0.2.1:51820
`,
}, {
	// Full tunnel when table 51820 already holds a route: wg-quick takes
	// the next empty table, 51821.
	name:   "fulltunnel_tablebusy",
	config: eqFullTunnel,
	setup: func(t *testing.T, ns *nettest.NetNS) {
		ns.Run(t, "ip", "-6", "route", "add", "2001:db8:51::/64", "dev", "under0", "table", "51820")
	},
}, {
	// Full tunnel beside an existing policy rule with a source selector:
	// the kernel gives rules added without a priority the priority of the
	// second rule minus one, so wg-quick's rules go before it (999, 998).
	name:   "fulltunnel_sourcerule",
	config: eqFullTunnel,
	setup: func(t *testing.T, ns *nettest.NetNS) {
		ns.Run(t, "ip", "-4", "rule", "add", "from", "192.0.2.77", "lookup", "100", "pref", "1000")
		ns.Run(t, "ip", "-6", "rule", "add", "from", "2001:db8:77::/64", "lookup", "100", "pref", "1000")
	},
}, {
	// The same full tunnel with the iptables fallback; the rules land in
	// the raw and mangle tables, which `nft list ruleset` shows too
	// (Debian's iptables is iptables-nft).
	name:     "fulltunnel_iptables",
	config:   eqFullTunnel,
	iptables: true,
}}

// TestEquivalence brings the same configuration up and down with the
// installed reference wg-quick in one namespace and with ours in a sibling
// namespace with the same underlay, and requires (spec 12.5, 12.11):
//
//   - the same state after up: addresses, routes and rules of both
//     families in all tables, nftables, the link's flags, MTU and state,
//     `wg showconf`, src_valid_mark, the resolvconf calls and the hooks'
//     files;
//   - after down, the state from before up, on both sides (src_valid_mark
//     excepted: wg-quick never restores it), and again the same effects;
//   - the same `[#]` transcripts, up to the expected differences in
//     eqDifferences;
//   - no userspace daemon, UAPI socket or journal left after down.
//
// The comparisons normalise only interface names, the per-side directory,
// ifindexes, IPv6 link-local addresses, the order of route lines, the order
// of peers in showconf and a random ListenPort (see eqNormalizer).
func TestEquivalence(t *testing.T) {
	tools := eqRequireTools(t)
	for _, tc := range eqCases {
		t.Run(tc.name, func(t *testing.T) { eqRunCase(t, tools, tc) })
	}
}
