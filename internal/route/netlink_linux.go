package route

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"

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
