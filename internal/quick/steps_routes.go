package quick

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"github.com/wgtools/wgtools/internal/route"
)

// Phase 2: what cfg no longer wants of the routing: full-tunnel rules and
// firewall tables, and routes. Removing them before anything is added lets
// a full tunnel find the same free table as up would.

func (t *txn) teardownSteps() ([]step, error) {
	var steps []step
	newFull := fullFamilies(t.next)
	for _, u := range t.j.Undo {
		if u.Kind != UndoRule {
			continue
		}
		if newFull[u.Family] && t.markKnown && t.mark == t.old.Mark {
			t.rules[u.Family] = true
			continue
		}
		steps = append(steps, t.deleteRule(u))
	}

	want := t.candidateRoutes()
	for _, rt := range t.old.Routes {
		if !want[rt] {
			steps = append(steps, t.deleteRoute(rt))
		}
	}

	for f := range t.fw {
		if !newFull[f] {
			steps = append(steps, t.removeFirewall())
			break
		}
	}
	return steps, nil
}

// candidateRoutes are the routes cfg may want, before coverage is known.
func (t *txn) candidateRoutes() map[AppliedRoute]bool {
	m := map[AppliedRoute]bool{}
	for _, p := range allowedPrefixes(t.next) {
		switch {
		case t.table > 0:
			m[AppliedRoute{Prefix: p, Table: t.table}] = true
		case t.table == 0:
		case p.Bits() == 0:
			if t.markKnown {
				m[AppliedRoute{Prefix: p, Table: int(t.mark)}] = true
			}
		default:
			m[AppliedRoute{Prefix: p}] = true
		}
	}
	return m
}

// Phase 6: routes and the full tunnel, as up adds them: longest prefix
// first; with the first default route the fwmark (a free table found, if
// none is configured), then with each the rules, the route,
// src_valid_mark and the firewall.

func (t *txn) routeSteps() ([]step, error) {
	var steps []step
	var others []netip.Prefix
	if t.table == -1 {
		var err error
		if others, err = t.otherRoutes(); err != nil {
			return nil, err
		}
	}
	var addrs []netip.Prefix // for the firewall, read once
	for _, p := range allowedPrefixes(t.next) {
		switch {
		case t.table > 0:
			if rt := (AppliedRoute{Prefix: p, Table: t.table}); !t.owned[rt] {
				steps = append(steps, t.addRoute(rt))
			}
		case t.table == 0:
		case p.Bits() == 0:
			fam := 4
			if p.Addr().Is6() {
				fam = 6
			}
			if !t.markKnown {
				s, err := t.findMark()
				if err != nil {
					return nil, err
				}
				steps = append(steps, s...)
			}
			if !t.rules[fam] {
				steps = append(steps, t.addRules(fam)...)
				t.rules[fam] = true
			}
			if rt := (AppliedRoute{Prefix: p, Table: int(t.mark)}); !t.owned[rt] {
				steps = append(steps, t.addRoute(rt))
			}
			if addrs == nil {
				var err error
				if addrs, err = t.addressesAfter(); err != nil {
					return nil, err
				}
			}
			// As in up, src_valid_mark before the firewall.
			if fam == 4 {
				s, err := t.srcValidMark()
				if err != nil {
					return nil, err
				}
				steps = append(steps, s...)
			}
			if rules := t.firewallRules(fam, t.mark, addrs); !reflect.DeepEqual(t.fw[fam], rules) {
				s, err := t.applyFirewall(rules)
				if err != nil {
					return nil, err
				}
				steps = append(steps, s)
			}
		default:
			rt := AppliedRoute{Prefix: p}
			covered := route.Covers(others, p)
			owned := t.owned[rt]
			switch {
			case covered && owned:
				// Up would not have added it: another route covers it
				// now (an address added).
				steps = append(steps, t.deleteRoute(rt))
			case !covered && !owned:
				steps = append(steps, t.addRoute(rt))
			}
		}
	}
	return steps, nil
}

// otherRoutes are the main-table routes through the link that reload does
// not own (the kernel's for the addresses, an administrator's): like the
// routes up finds with `ip route show dev IF match P`, they make an allowed
// IP's own route unnecessary. A dry run predicts phase 2 and 3's effect.
func (t *txn) otherRoutes() ([]netip.Prefix, error) {
	live, err := t.e.Routes.LinkRoutes(t.iface)
	if err != nil {
		return nil, err
	}
	drop := func(p netip.Prefix) {
		if i := slices.Index(live, p); i >= 0 {
			live = slices.Delete(live, i, i+1)
		}
	}
	for _, rt := range t.routes {
		if rt.Table == 0 {
			drop(rt.Prefix)
		}
	}
	if t.dry {
		for _, rt := range t.deleted {
			if rt.Table == 0 {
				drop(rt.Prefix)
			}
		}
		added, removed := t.addedRemoved()
		for _, a := range removed {
			if p, ok := connectedRoute(a); ok {
				drop(p)
			}
		}
		for _, a := range added {
			if p, ok := connectedRoute(a); ok {
				live = append(live, p)
			}
		}
	}
	return live, nil
}

// connectedRoute is the route the kernel adds with an address: none for an
// IPv4 /32.
func connectedRoute(a netip.Prefix) (netip.Prefix, bool) {
	if a.Addr().Is4() && a.Bits() == 32 {
		return netip.Prefix{}, false
	}
	return a.Masked(), true
}

// addressesAfter are the link's addresses after phase 3, read from the
// link as up reads them, or predicted in a dry run.
func (t *txn) addressesAfter() ([]netip.Prefix, error) {
	if !t.dry {
		return t.e.Links.Addresses(t.iface)
	}
	added, removed := t.addedRemoved()
	out := slices.DeleteFunc(slices.Clone(t.addrs), func(a netip.Prefix) bool { return slices.Contains(removed, a) })
	return append(out, added...), nil
}

// routeCmd renders a route as ip route op; cfg's table is printed as
// written (a number or a name), as up prints it.
func (t *txn) routeCmd(op string, rt AppliedRoute) string {
	s := fmt.Sprintf("ip %s route %s %s dev %s", family(rt.Prefix), op, rt.Prefix, t.iface)
	switch {
	case rt.Table == 0:
	case rt.Table == t.table:
		s += " table " + t.cfg.Interface.Table
	default:
		s += fmt.Sprintf(" table %d", rt.Table)
	}
	return s
}

func (t *txn) deleteRoute(rt AppliedRoute) step {
	t.routes = slices.DeleteFunc(t.routes, func(x AppliedRoute) bool { return x == rt })
	delete(t.owned, rt)
	t.deleted = append(t.deleted, rt)
	return step{cmds: []string{t.routeCmd("del", rt)}, do: func() ([]action, error) {
		err := t.e.Routes.DeleteRoute(t.iface, rt.Prefix, rt.Table)
		if err != nil && notExist(err) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		return []action{t.linkAction(t.routeCmd("add", rt), func() error { return t.e.Routes.AddRoute(t.iface, rt.Prefix, rt.Table) })}, nil
	}}
}

func (t *txn) addRoute(rt AppliedRoute) step {
	t.routes = append(t.routes, rt)
	t.owned[rt] = true
	return step{cmds: []string{t.routeCmd("add", rt)}, do: func() ([]action, error) {
		err := t.e.Routes.AddRoute(t.iface, rt.Prefix, rt.Table)
		if errors.Is(err, route.ErrExists) && !t.fresh {
			return nil, nil // left by an interrupted reload: ours now
		} else if err != nil {
			return nil, err
		}
		return []action{t.linkAction(t.routeCmd("del", rt), func() error { return t.e.Routes.DeleteRoute(t.iface, rt.Prefix, rt.Table) })}, nil
	}}
}

// sortRoutes orders prefixes as wg-quick's `sort -nr -k 2 -t /` does:
// longest prefix first, ties in reverse byte order of the whole text.
func sortRoutes(ps []netip.Prefix) {
	// Each prefix's text is made once, not twice per comparison.
	type keyed struct {
		p    netip.Prefix
		text string
	}
	ks := make([]keyed, len(ps))
	for i, p := range ps {
		ks[i] = keyed{p, p.String()}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		if c := cmp.Compare(b.p.Bits(), a.p.Bits()); c != 0 {
			return c
		}
		return strings.Compare(b.text, a.text)
	})
	for i := range ks {
		ps[i] = ks[i].p
	}
}

// allowedPrefixes are a configuration's allowed IPs in up's route order.
func allowedPrefixes(a *Applied) []netip.Prefix {
	var ps []netip.Prefix
	seen := map[netip.Prefix]bool{}
	for _, p := range a.Peers {
		for _, pfx := range p.AllowedIPs {
			if !seen[pfx] {
				seen[pfx] = true
				ps = append(ps, pfx)
			}
		}
	}
	sortRoutes(ps)
	return ps
}
