package route

import (
	"fmt"
	"math"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

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
