package firewall

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/wgtools/wgtools/internal/config"
)

// Rules describes wg-quick's firewall rules for one interface and one
// address family.
type Rules struct {
	// Interface is the WireGuard interface's name.
	Interface string
	// Mark is the fwmark of the interface's socket, which is also the
	// number of the routing table holding the default route (51820 unless
	// FwMark is set or that table is taken).
	Mark uint32
	// Family is 4 or 6.
	Family int
	// Addrs are the interface's addresses of that family in the order
	// "ip -o addr show dev IF" lists them, IPv6 link-local ones included.
	// Zones are ignored.
	Addrs []netip.Addr
}

// Validate reports whether r describes rules wg-quick could install: a
// wg-quick interface name, family 4 or 6, a non-zero mark (wg-quick never
// installs the rules with fwmark off, and "mark 0" would match all unmarked
// packets) and valid addresses of the family.
func (r Rules) Validate() error {
	if !config.IsInterfaceName(r.Interface) {
		return fmt.Errorf("invalid interface name %q", r.Interface)
	}
	if r.Family != 4 && r.Family != 6 {
		return fmt.Errorf("invalid address family %d: want 4 or 6", r.Family)
	}
	if r.Mark == 0 {
		return errors.New("invalid mark 0")
	}
	for _, a := range r.Addrs {
		if !a.IsValid() || (r.Family == 4) != a.Is4() {
			return fmt.Errorf("address %v is not an IPv%d address", a, r.Family)
		}
	}
	return nil
}

// TableName returns the name of the nftables table holding iface's rules,
// "wg-quick-" followed by the interface name.
func TableName(iface string) string {
	return "wg-quick-" + iface
}

// comment tags every iptables rule of iface, so that removal can find them.
func comment(iface string) string {
	return `-m comment --comment "wg-quick(8) rule for ` + iface + `"`
}

// pf returns the nft address family keyword of r, which is also the keyword
// of its network-layer payload ("ip daddr", "ip6 daddr").
func (r Rules) pf() string {
	if r.Family == 6 {
		return "ip6"
	}
	return "ip"
}

// addrString formats a as "ip -o addr" prints it: no zone, IPv6 in RFC 5952
// form.
func addrString(a netip.Addr) string {
	return a.WithZone("").String()
}

// NFTScript returns the script wg-quick feeds to "nft -f" for r, byte for
// byte, including the space before the newline at the end of the two
// connmark rules. It does not validate r (see [Rules.Validate]).
//
// The script adds to what exists: run twice, it duplicates the rules. Note
// that nft cannot parse the table name when the interface name contains '='
// or '+', which wg-quick accepts, so for those names the script fails as
// wg-quick's does; [NFT.Apply] has no such limit.
func NFTScript(r Rules) string {
	var b strings.Builder
	pf, table := r.pf(), TableName(r.Interface)
	fmt.Fprintf(&b, "add table %s %s\n", pf, table)
	fmt.Fprintf(&b, "add chain %s %s preraw { type filter hook prerouting priority -300; }\n", pf, table)
	fmt.Fprintf(&b, "add chain %s %s premangle { type filter hook prerouting priority -150; }\n", pf, table)
	fmt.Fprintf(&b, "add chain %s %s postmangle { type filter hook postrouting priority -150; }\n", pf, table)
	for _, a := range r.Addrs {
		fmt.Fprintf(&b, "add rule %s %s preraw iifname != \"%s\" %s daddr %s fib saddr type != local drop\n",
			pf, table, r.Interface, pf, addrString(a))
	}
	fmt.Fprintf(&b, "add rule %s %s postmangle meta l4proto udp mark %d ct mark set mark \n", pf, table, r.Mark)
	fmt.Fprintf(&b, "add rule %s %s premangle meta l4proto udp meta mark set ct mark \n", pf, table)
	return b.String()
}

// IptablesRestore returns the input wg-quick feeds to "iptables-restore -n"
// (Family 4) or "ip6tables-restore -n" (Family 6) for r when nft is not
// installed, byte for byte. It does not validate r (see [Rules.Validate]).
//
// The rules are inserted (-I), so iptables-save lists the anti-spoofing
// rules in the reverse order of Addrs, and running the input twice
// duplicates them.
func IptablesRestore(r Rules) string {
	var b strings.Builder
	tag := comment(r.Interface)
	b.WriteString("*raw\n")
	for _, a := range r.Addrs {
		fmt.Fprintf(&b, "-I PREROUTING ! -i %s -d %s -m addrtype ! --src-type LOCAL -j DROP %s\n",
			r.Interface, addrString(a), tag)
	}
	b.WriteString("COMMIT\n*mangle\n")
	fmt.Fprintf(&b, "-I POSTROUTING -m mark --mark %d -p udp -j CONNMARK --save-mark %s\n", r.Mark, tag)
	fmt.Fprintf(&b, "-I PREROUTING -p udp -j CONNMARK --restore-mark %s\n", tag)
	b.WriteString("COMMIT\n")
	return b.String()
}

// lines splits s into the lines bash's "while read -r line" loop sees: each
// newline-terminated line with surrounding blanks trimmed. A last line
// without a newline is dropped, as read reports failure for it.
func lines(s string) []string {
	ls := strings.SplitAfter(s, "\n")
	var out []string
	for _, l := range ls {
		if !strings.HasSuffix(l, "\n") {
			break
		}
		out = append(out, strings.Trim(l, " \t\n"))
	}
	return out
}

// NFTDelete returns the script wg-quick feeds to "nft -f" on down to remove
// iface's tables, given the output of "nft list tables": one "delete table
// FAMILY wg-quick-IF" line per table of that name, in any family. It returns
// "" when there is none, in which case wg-quick runs nothing.
func NFTDelete(listTables, iface string) string {
	var b strings.Builder
	for _, l := range lines(listTables) {
		if strings.HasSuffix(l, " "+TableName(iface)) {
			fmt.Fprintf(&b, "delete %s\n", l)
		}
	}
	return b.String()
}

// IptablesDelete returns the input wg-quick feeds to "iptables-restore -n"
// (or ip6tables-restore) on down, given the output of iptables-save (or
// ip6tables-save): every table header and COMMIT line, and every appended
// rule carrying iface's comment turned from -A into -D. found reports
// whether there was such a rule; if not, wg-quick runs nothing.
func IptablesDelete(save, iface string) (restore string, found bool) {
	var b strings.Builder
	tag := comment(iface)
	for _, l := range lines(save) {
		switch {
		case strings.HasPrefix(l, "*"), l == "COMMIT":
			b.WriteString(l + "\n")
		case strings.HasPrefix(l, "-A ") && strings.Contains(l, tag):
			found = true
			b.WriteString("-D" + strings.TrimPrefix(l, "-A") + "\n")
		}
	}
	return b.String(), found
}
