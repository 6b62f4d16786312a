package route

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

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
