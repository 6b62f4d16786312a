package route

import "net/netip"

// Covers reports whether one of routes contains p: same family, a prefix
// no longer than p's, holding p's address. Over a link's main-table routes
// (Manager.LinkRoutes) it answers what `ip route show dev IF match P`
// answers by printing anything, which is how wg-quick skips allowed IPs
// that a route it did not add (the kernel's for an Address) covers.
func Covers(routes []netip.Prefix, p netip.Prefix) bool {
	for _, r := range routes {
		if r.Addr().Is4() == p.Addr().Is4() && r.Bits() <= p.Bits() && r.Masked().Contains(p.Addr()) {
			return true
		}
	}
	return false
}
