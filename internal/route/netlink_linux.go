package route

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// nlHandle is the part of *netlink.Handle that Manager uses, so that a fake
// can stand in for the kernel.
type nlHandle interface {
	LinkByName(name string) (netlink.Link, error)
	LinkByIndex(index int) (netlink.Link, error)
	LinkAdd(link netlink.Link) error
	LinkDel(link netlink.Link) error
	LinkSetMTU(link netlink.Link, mtu int) error
	LinkSetUp(link netlink.Link) error
	AddrAdd(link netlink.Link, addr *netlink.Addr) error
	AddrDel(link netlink.Link, addr *netlink.Addr) error
	AddrList(link netlink.Link, family int) ([]netlink.Addr, error)
	RouteAdd(route *netlink.Route) error
	RouteDel(route *netlink.Route) error
	RouteListFiltered(family int, filter *netlink.Route, filterMask uint64) ([]netlink.Route, error)
	RouteGet(destination net.IP) ([]netlink.Route, error)
	RuleAdd(rule *netlink.Rule) error
	RuleDel(rule *netlink.Rule) error
	RuleList(family int) ([]netlink.Rule, error)
	Close()
}

var _ nlHandle = (*netlink.Handle)(nil)

// dumpAttempts bounds how often a dump interrupted by a concurrent change
// (NLM_F_DUMP_INTR) is repeated before its error is returned.
const dumpAttempts = 5

// New returns a Manager for the network namespace of the calling thread.
func New() (*Manager, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("opening rtnetlink socket: %w", err)
	}
	return &Manager{h: h}, nil
}

// NewAt returns a Manager for the network namespace ns. The caller's thread
// stays where it is, and ns may be closed once NewAt returns.
func NewAt(ns netns.NsHandle) (*Manager, error) {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("opening rtnetlink socket in network namespace %v: %w", ns, err)
	}
	return &Manager{h: h}, nil
}

// LinkExists reports whether a link (of any type) named name exists, as
// wg-quick checks with "ip link show dev IF" before "up".
func (m *Manager) LinkExists(name string) (bool, error) {
	_, err := m.link(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("looking up link %s: %w", name, err)
	}
	return true, nil
}

// AddWireGuardLink creates the link name of type wireguard, as
// "ip link add IF type wireguard" does. If the kernel has no such link type
// the error wraps [ErrLinkTypeUnsupported]; if a link of that name exists it
// wraps [ErrExists] (the kernel checks the name first, with or without the
// module).
func (m *Manager) AddWireGuardLink(name string) error {
	if name == "" {
		return errors.New("adding wireguard link: empty name")
	}
	// NewLinkAttrs, not a zero LinkAttrs: the library sends IFLA_TXQLEN
	// unless TxQLen is negative, and ip sends none.
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	delete(m.indexes, name)
	err := m.h.LinkAdd(&netlink.GenericLink{LinkAttrs: attrs, LinkType: "wireguard"})
	if errors.Is(err, unix.EOPNOTSUPP) {
		err = &kernelError{sentinel: ErrLinkTypeUnsupported, err: err}
	}
	if err != nil {
		return fmt.Errorf("adding link %s of type wireguard: %w", name, classify(err))
	}
	return nil
}

// DeleteLink deletes the link name, as "ip link delete dev IF" does.
func (m *Manager) DeleteLink(name string) error {
	delete(m.indexes, name)
	link, err := m.link(name)
	if err == nil {
		err = classify(m.h.LinkDel(link))
	}
	if err != nil {
		return fmt.Errorf("deleting link %s: %w", name, err)
	}
	return nil
}

// SetMTUUp sets the MTU of the link name and brings it up, in that order,
// as "ip link set mtu N up dev IF" does in one request. The MTU is not
// validated; the kernel rejects what the device cannot take.
func (m *Manager) SetMTUUp(name string, mtu int) error {
	link, err := m.link(name)
	if err != nil {
		return fmt.Errorf("setting mtu %d on %s: %w", mtu, name, err)
	}
	if err := m.h.LinkSetMTU(link, mtu); err != nil {
		return fmt.Errorf("setting mtu %d on %s: %w", mtu, name, classify(err))
	}
	if err := m.h.LinkSetUp(link); err != nil {
		return fmt.Errorf("setting %s up: %w", name, classify(err))
	}
	return nil
}

// LinkMTU returns the MTU of the link name.
func (m *Manager) LinkMTU(name string) (int, error) {
	link, err := m.link(name)
	if err != nil {
		return 0, fmt.Errorf("reading mtu of %s: %w", name, err)
	}
	return link.Attrs().MTU, nil
}

// LinkIndex returns the interface index of the link name.
func (m *Manager) LinkIndex(name string) (int, error) {
	link, err := m.link(name)
	if err != nil {
		return 0, fmt.Errorf("reading index of %s: %w", name, err)
	}
	return link.Attrs().Index, nil
}

// link looks up a link by name; a missing one is fs.ErrNotExist.
func (m *Manager) link(name string) (netlink.Link, error) {
	if name == "" {
		return nil, &kernelError{sentinel: fs.ErrNotExist, err: unix.ENODEV}
	}
	link, err := m.h.LinkByName(name)
	if err != nil {
		return nil, classify(err)
	}
	return link, nil
}

// AddAddress adds the address p (host bits included, such as 10.0.0.3/24)
// to the link name, as "ip -4|-6 address add P dev IF" does: no broadcast
// address, scope host for 127.0.0.0/8 and global otherwise, and no flags, so
// an IPv6 address goes through duplicate address detection (ip sets no
// nodad).
func (m *Manager) AddAddress(name string, p netip.Prefix) error {
	n, err := ipNet(p)
	if err != nil {
		return fmt.Errorf("adding address to %s: %w", name, err)
	}
	link, err := m.link(name)
	if err != nil {
		return fmt.Errorf("adding address %v to %s: %w", p, name, err)
	}
	a := &netlink.Addr{IPNet: n}
	if p.Addr().Is4() {
		// The library computes a broadcast address unless given 0.0.0.0;
		// ip sends one only for "brd".
		a.Broadcast = net.IPv4zero
		// ip's default_scope.
		if p.Addr().As4()[0] == 127 {
			a.Scope = unix.RT_SCOPE_HOST
		}
	}
	if err := m.h.AddrAdd(link, a); err != nil {
		return fmt.Errorf("adding address %v to %s: %w", p, name, classify(err))
	}
	return nil
}

// DeleteAddress removes the address p (host bits and prefix length as it
// was added, such as 10.0.0.3/24) from the link name, as
// "ip -4|-6 address del P dev IF" does. An address the link does not have
// (the kernel answers EADDRNOTAVAIL) is [fs.ErrNotExist], as is a missing
// link.
func (m *Manager) DeleteAddress(name string, p netip.Prefix) error {
	n, err := ipNet(p)
	if err != nil {
		return fmt.Errorf("deleting address from %s: %w", name, err)
	}
	link, err := m.link(name)
	if err != nil {
		return fmt.Errorf("deleting address %v from %s: %w", p, name, err)
	}
	// 0.0.0.0 keeps the library from computing and sending a broadcast
	// address, which ip does not send either.
	a := &netlink.Addr{IPNet: n, Broadcast: net.IPv4zero}
	err = m.h.AddrDel(link, a)
	if errors.Is(err, unix.EADDRNOTAVAIL) {
		err = &kernelError{sentinel: fs.ErrNotExist, err: err}
	}
	if err != nil {
		return fmt.Errorf("deleting address %v from %s: %w", p, name, classify(err))
	}
	return nil
}

// Addresses returns the addresses of the link name with their prefix
// lengths and host bits (10.0.0.3/24), in the kernel's order: IPv4 first,
// then IPv6 including link-local ones, as "ip -brief address show dev IF"
// lists them.
func (m *Manager) Addresses(name string) ([]netip.Prefix, error) {
	link, err := m.link(name)
	if err != nil {
		return nil, fmt.Errorf("listing addresses of %s: %w", name, err)
	}
	addrs, err := retryDump(func() ([]netlink.Addr, error) {
		return m.h.AddrList(link, netlink.FAMILY_ALL)
	})
	if err != nil {
		return nil, fmt.Errorf("listing addresses of %s: %w", name, err)
	}
	prefixes := make([]netip.Prefix, 0, len(addrs))
	for _, a := range addrs {
		p, ok := prefixFromIPNet(a.IPNet)
		if !ok {
			return nil, fmt.Errorf("listing addresses of %s: unexpected address %v", name, a.IPNet)
		}
		prefixes = append(prefixes, p)
	}
	return prefixes, nil
}

// AddRoute adds a route to p through the link name in table (0 for main),
// as "ip route add P dev IF [table T]" does: type unicast, protocol boot,
// scope link. IPv4 prefixes must have no host bits set (the kernel answers
// EINVAL, as it does to ip).
func (m *Manager) AddRoute(name string, p netip.Prefix, table int) error {
	err := m.retryRoute(name, p, table, func(r *netlink.Route) {
		r.Scope = netlink.SCOPE_LINK
		r.Protocol = unix.RTPROT_BOOT
		r.Type = unix.RTN_UNICAST
	}, m.h.RouteAdd)
	if err != nil {
		return fmt.Errorf("adding route %v dev %s to table %s: %w", p, name, tableString(table), err)
	}
	return nil
}

// DeleteRoute deletes the route to p through the link name from table (0
// for main), as "ip route del P dev IF [table T]" does: whatever its scope,
// protocol and type. A missing route is [fs.ErrNotExist].
func (m *Manager) DeleteRoute(name string, p netip.Prefix, table int) error {
	// The library would send the route's Scope, 0 (universe), which
	// matches no device route; ip sends "nowhere", the wildcard.
	err := m.retryRoute(name, p, table, func(r *netlink.Route) { r.Scope = netlink.SCOPE_NOWHERE }, m.h.RouteDel)
	if err != nil {
		return fmt.Errorf("deleting route %v dev %s from table %s: %w", p, name, tableString(table), err)
	}
	return nil
}

// deviceRoute returns the route to p through link name in table.
func (m *Manager) deviceRoute(name string, p netip.Prefix, table int) (*netlink.Route, error) {
	if err := checkTable(table); err != nil {
		return nil, err
	}
	n, err := ipNet(p)
	if err != nil {
		return nil, err
	}
	index, err := m.routeLinkIndex(name)
	if err != nil {
		return nil, err
	}
	return &netlink.Route{LinkIndex: index, Dst: n, Table: table}, nil
}

// routeLinkIndex returns the index of the link name for route requests,
// remembering it: up adds a route per allowed IP, and looking the link up
// again for each (a full RTM_GETLINK, parsed) was half of every route's
// cost. AddWireGuardLink and DeleteLink forget the name; a route request
// that finds the index gone (ENODEV) forgets it too, see retryRoute.
func (m *Manager) routeLinkIndex(name string) (int, error) {
	if i, ok := m.indexes[name]; ok {
		return i, nil
	}
	link, err := m.link(name)
	if err != nil {
		return 0, err
	}
	if m.indexes == nil {
		m.indexes = map[string]int{}
	}
	m.indexes[name] = link.Attrs().Index
	return link.Attrs().Index, nil
}

// retryRoute runs a route request built by deviceRoute; if the kernel says
// the remembered link index is gone, it forgets it and tries once more
// with the link looked up again.
func (m *Manager) retryRoute(name string, p netip.Prefix, table int, prepare func(*netlink.Route), do func(*netlink.Route) error) error {
	for attempt := 0; ; attempt++ {
		r, err := m.deviceRoute(name, p, table)
		if err != nil {
			return err
		}
		prepare(r)
		err = do(r)
		if attempt == 0 && errors.Is(err, unix.ENODEV) {
			delete(m.indexes, name)
			continue
		}
		return classify(err)
	}
}

// LinkRoutes returns the destinations of the routes through the link name
// in the main table, IPv4 then IPv6, as "ip -4 route show dev IF" and
// "ip -6 route show dev IF" list them: whoever added them (the kernel for an
// address's prefix, wg-quick, an administrator). A default route is
// 0.0.0.0/0 or ::/0. wg-quick reload uses it to tell which allowed IPs a
// route it did not add covers.
func (m *Manager) LinkRoutes(name string) ([]netip.Prefix, error) {
	link, err := m.link(name)
	if err != nil {
		return nil, fmt.Errorf("listing routes through %s: %w", name, err)
	}
	filter := &netlink.Route{LinkIndex: link.Attrs().Index, Table: unix.RT_TABLE_MAIN}
	var out []netip.Prefix
	for _, family := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		routes, err := retryDump(func() ([]netlink.Route, error) {
			return m.h.RouteListFiltered(family, filter, netlink.RT_FILTER_OIF|netlink.RT_FILTER_TABLE)
		})
		if err != nil {
			return nil, fmt.Errorf("listing routes through %s: %w", name, err)
		}
		for _, r := range routes {
			if dst, ok := routeDst(r); ok {
				out = append(out, dst)
			}
		}
	}
	return out, nil
}

// TableEmpty reports whether table (0 for main) holds no routes of either
// family, that is whether "ip -4 route show table T" and
// "ip -6 route show table T" both print nothing, as wg-quick's search for a
// free table (from 51820 up) checks. Like ip it ignores cached clones.
func (m *Manager) TableEmpty(table int) (bool, error) {
	if err := checkTable(table); err != nil {
		return false, err
	}
	if table == 0 {
		table = unix.RT_TABLE_MAIN // a zero filter would match every table
	}
	filter := &netlink.Route{Table: table}
	for _, family := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		routes, err := retryDump(func() ([]netlink.Route, error) {
			return m.h.RouteListFiltered(family, filter, netlink.RT_FILTER_TABLE)
		})
		if err != nil {
			return false, fmt.Errorf("listing routes in table %s: %w", tableString(table), err)
		}
		if len(routes) > 0 {
			return false, nil
		}
	}
	return true, nil
}

// RouteMTU returns the MTU of the path to dst as wg-quick's MTU detection
// reads it from "ip route get DST": the route's mtu metric if it has one
// (also a learned path MTU), else the MTU of its output device. ok is false
// when there is no route (the lookup fails with "unreachable", "prohibit"
// or "blackhole", or the route has neither an mtu nor a device). A zone in
// dst is ignored.
func (m *Manager) RouteMTU(dst netip.Addr) (mtu int, ok bool, err error) {
	if !dst.IsValid() || dst.Is4In6() {
		return 0, false, fmt.Errorf("looking up route to %v: not an IPv4 or IPv6 address", dst)
	}
	routes, err := m.h.RouteGet(net.IP(dst.WithZone("").AsSlice()))
	switch {
	case errors.Is(err, unix.ENETUNREACH), errors.Is(err, unix.EHOSTUNREACH),
		errors.Is(err, unix.EACCES), errors.Is(err, unix.EINVAL):
		// No route, an unreachable or prohibit route, or (IPv4) a
		// blackhole route: ip route get prints an error and nothing on
		// standard output.
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("looking up route to %v: %w", dst, err)
	case len(routes) == 0:
		return 0, false, nil
	}
	mtu, ok, err = m.routeMTU(routes[0])
	if err != nil {
		return 0, false, fmt.Errorf("looking up route to %v: %w", dst, err)
	}
	return mtu, ok, nil
}

// DefaultRouteMTU returns the MTU wg-quick falls back to when no endpoint
// gave one: from the first line of "ip route show default", the first IPv4
// route to 0.0.0.0/0 in the main table (lowest metric first), its mtu
// metric or else its device's MTU. ok is false when there is no such route
// or it has neither (a multipath or unreachable default route).
func (m *Manager) DefaultRouteMTU() (int, bool, error) {
	filter := &netlink.Route{Table: unix.RT_TABLE_MAIN}
	routes, err := retryDump(func() ([]netlink.Route, error) {
		return m.h.RouteListFiltered(netlink.FAMILY_V4, filter, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return 0, false, fmt.Errorf("listing default routes: %w", err)
	}
	for _, r := range routes {
		if dst, ok := routeDst(r); !ok || dst.Bits() != 0 {
			continue
		}
		mtu, ok, err := m.routeMTU(r)
		if err != nil {
			return 0, false, fmt.Errorf("reading mtu of default route: %w", err)
		}
		return mtu, ok, nil
	}
	return 0, false, nil
}

// routeMTU returns the route's mtu metric or its device's MTU.
func (m *Manager) routeMTU(r netlink.Route) (int, bool, error) {
	if r.MTU > 0 {
		return r.MTU, true, nil
	}
	if r.LinkIndex <= 0 {
		return 0, false, nil
	}
	link, err := m.h.LinkByIndex(r.LinkIndex)
	if err != nil {
		return 0, false, fmt.Errorf("looking up link %d: %w", r.LinkIndex, classify(err))
	}
	return link.Attrs().MTU, true, nil
}

// AddRule adds the policy rule r, as "ip -4|-6 rule add …" does with the
// arguments r.String() returns: without a priority unless r has one, so the
// kernel picks one. Like ip, adding a rule without a priority twice adds it
// twice (the kernel only reports EEXIST, as [ErrExists], for a duplicate
// that also has the same priority).
func (m *Manager) AddRule(r Rule) error {
	nr, err := netlinkRule(r)
	if err == nil {
		err = classify(m.h.RuleAdd(nr))
	}
	if err != nil {
		return fmt.Errorf("adding IPv%d rule %v: %w", r.Family, r, err)
	}
	return nil
}

// DeleteRule deletes the first rule, in priority order, that is exactly r:
// the same family, table, fwmark, inversion and suppress_prefixlength, no
// other selector, and the same priority if r has one. Without a match the
// error wraps [fs.ErrNotExist] (ENOENT, as ip reports).
func (m *Manager) DeleteRule(r Rule) error {
	if _, err := netlinkRule(r); err != nil {
		return fmt.Errorf("deleting IPv%d rule %v: %w", r.Family, r, err)
	}
	rules, raw, err := m.rules(r.Family)
	if err != nil {
		return fmt.Errorf("deleting IPv%d rule %v: %w", r.Family, r, err)
	}
	want := r.normalized()
	for i, got := range rules {
		if !want.matches(got) {
			continue
		}
		// The kernel deletes the first rule that has the given
		// attributes; sending the priority too makes that this one.
		if err := m.h.RuleDel(&raw[i]); err != nil {
			return fmt.Errorf("deleting IPv%d rule %v: %w", r.Family, r, classify(err))
		}
		return nil
	}
	return fmt.Errorf("deleting IPv%d rule %v: %w", r.Family, r, unix.ENOENT)
}

// Rules returns the rules of family 4 or 6 in priority order, as
// "ip -4|-6 rule show" lists them, leaving out those that a Rule cannot
// describe exactly: rules with other selectors (from, to, tos, iif, oif,
// a fwmark mask, ports, …) or with an action other than a table lookup.
// Every rule returned can thus be deleted with [Manager.DeleteRule].
func (m *Manager) Rules(family int) ([]Rule, error) {
	rules, _, err := m.rules(family)
	if err != nil {
		return nil, fmt.Errorf("listing IPv%d rules: %w", family, err)
	}
	return rules, nil
}

// DefaultRulePriority returns the priority the kernel would give a new rule
// of the family added without one (fib_default_rule_pref: one less than the
// priority of the second rule in the list, counting every rule, whatever its
// selectors; 0 when there is no such rule).
func (m *Manager) DefaultRulePriority(family int) (int, error) {
	af, err := ruleFamily(family)
	if err != nil {
		return 0, err
	}
	all, err := retryDump(func() ([]netlink.Rule, error) { return m.h.RuleList(af) })
	if err != nil {
		return 0, fmt.Errorf("listing IPv%d rules: %w", family, err)
	}
	prios := make([]int, 0, len(all))
	for _, r := range all {
		prios = append(prios, max(r.Priority, 0))
	}
	slices.Sort(prios)
	if len(prios) >= 2 && prios[1] > 0 {
		return prios[1] - 1, nil
	}
	return 0, nil
}

// rules lists the rules of a family that Rule can describe, with the
// kernel's versions of them.
func (m *Manager) rules(family int) ([]Rule, []netlink.Rule, error) {
	af, err := ruleFamily(family)
	if err != nil {
		return nil, nil, err
	}
	all, err := retryDump(func() ([]netlink.Rule, error) { return m.h.RuleList(af) })
	if err != nil {
		return nil, nil, err
	}
	var rules []Rule
	var raw []netlink.Rule
	for _, nr := range all {
		if r, ok := ruleFromNetlink(nr); ok {
			rules = append(rules, r)
			raw = append(raw, nr)
		}
	}
	return rules, raw, nil
}

// netlinkRule converts r into the library's rule for adding it.
func netlinkRule(r Rule) (*netlink.Rule, error) {
	af, err := ruleFamily(r.Family)
	if err != nil {
		return nil, err
	}
	r = r.normalized()
	if err := checkTable(r.Table); err != nil {
		return nil, err
	}
	if int64(r.Priority) > math.MaxUint32 {
		return nil, fmt.Errorf("priority %d out of range", r.Priority)
	}
	// NewRule, not a zero Rule: the library sends priority, goto, flow
	// and suppress_ifgroup unless they are negative.
	nr := netlink.NewRule()
	nr.Family = af
	nr.Table = r.Table
	nr.Mark = r.Mark
	nr.Invert = r.Invert
	if r.Priority > 0 {
		nr.Priority = r.Priority
	}
	if r.SuppressPrefixlen >= 0 {
		// The library only sends FRA_SUPPRESS_PREFIXLEN with a table
		// below 256 (in the header); it would drop it silently.
		if r.Table >= 256 {
			return nil, fmt.Errorf("suppress_prefixlength with table %d: only tables below 256 are supported", r.Table)
		}
		nr.SuppressPrefixlen = r.SuppressPrefixlen
	}
	return nr, nil
}

// ruleFromNetlink converts a listed rule; ok is false if Rule cannot
// describe it exactly.
func ruleFromNetlink(nr netlink.Rule) (r Rule, ok bool) {
	var family int
	switch nr.Family {
	case unix.AF_INET:
		family = 4
	case unix.AF_INET6:
		family = 6
	default:
		return Rule{}, false
	}
	// A table of 0 means another action (goto, blackhole, nop, l3mdev
	// lookup …), which the library does not report.
	if nr.Table == 0 || nr.Goto >= 0 ||
		nr.Src != nil || nr.Dst != nil || nr.Tos != 0 || nr.TunID != 0 || nr.Flow > 0 ||
		nr.IifName != "" || nr.OifName != "" || nr.SuppressIfgroup >= 0 ||
		nr.Dport != nil || nr.Sport != nil || nr.UIDRange != nil || nr.IPProto != 0 {
		return Rule{}, false
	}
	// The kernel reports mask 0xffffffff with every mark given without
	// one; any other mask, or a mask without a mark, is a selector Rule
	// lacks.
	if nr.Mask != nil && (nr.Mark == 0 || *nr.Mask != math.MaxUint32) {
		return Rule{}, false
	}
	return Rule{
		Family:            family,
		Priority:          nr.Priority,
		Table:             nr.Table,
		Mark:              nr.Mark,
		Invert:            nr.Invert,
		SuppressPrefixlen: max(nr.SuppressPrefixlen, -1),
	}, true
}

// ruleFamily maps 4 and 6 to the address family.
func ruleFamily(family int) (int, error) {
	switch family {
	case 4:
		return unix.AF_INET, nil
	case 6:
		return unix.AF_INET6, nil
	}
	return 0, fmt.Errorf("invalid family %d (want 4 or 6)", family)
}

// checkTable rejects table IDs the kernel cannot hold.
func checkTable(table int) error {
	if table < 0 || int64(table) > maxTableID {
		return fmt.Errorf("table %d out of range", table)
	}
	return nil
}

// ipNet converts a prefix, host bits included, for the library.
// IPv4-mapped IPv6 addresses are rejected: the library would take them for
// IPv4 addresses, where ip takes them for IPv6 ones.
func ipNet(p netip.Prefix) (*net.IPNet, error) {
	if !p.IsValid() {
		return nil, errors.New("invalid prefix")
	}
	a := p.Addr()
	if a.Is4In6() {
		return nil, fmt.Errorf("%v: IPv4-mapped IPv6 addresses are not supported", p)
	}
	return &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(p.Bits(), a.BitLen())}, nil
}

// prefixFromIPNet converts an address or route destination from the
// library, keeping host bits.
func prefixFromIPNet(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, bits := n.Mask.Size()
	if bits == 32 {
		a = a.Unmap()
	}
	if bits != a.BitLen() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, ones), true
}

// routeDst returns a route's destination; a route without RTA_DST is a
// default route of its family.
func routeDst(r netlink.Route) (netip.Prefix, bool) {
	if r.Dst != nil {
		return prefixFromIPNet(r.Dst)
	}
	switch r.Family {
	case netlink.FAMILY_V4:
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), true
	case netlink.FAMILY_V6:
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0), true
	}
	return netip.Prefix{}, false
}

// retryDump runs a dump again while the kernel reports it interrupted by a
// concurrent change, and returns the last error if that never stops.
func retryDump[T any](dump func() ([]T, error)) ([]T, error) {
	var res []T
	var err error
	for range dumpAttempts {
		res, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	return res, err
}

// classify makes the errnos callers branch on match this package's
// sentinels as well: EEXIST is ErrExists, and a missing link (ENODEV, or
// the library's LinkNotFoundError), route (ESRCH) or rule (ENOENT) is
// fs.ErrNotExist.
func classify(err error) error {
	var notFound netlink.LinkNotFoundError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &notFound):
		return &kernelError{sentinel: fs.ErrNotExist, err: unix.ENODEV}
	case errors.Is(err, unix.EEXIST):
		return &kernelError{sentinel: ErrExists, err: err}
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.ESRCH), errors.Is(err, unix.ENOENT):
		return &kernelError{sentinel: fs.ErrNotExist, err: err}
	}
	return err
}
