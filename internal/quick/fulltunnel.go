package quick

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"github.com/wgtools/wgtools/internal/firewall"
	"github.com/wgtools/wgtools/internal/route"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// freeTable finds the first empty table from 51820 as up does; in a dry
// run the tables of the routes phase 2 would have deleted count as empty.
func (t *txn) freeTable() (int, error) {
	for table := 51820; ; table++ {
		empty, err := t.e.Routes.TableEmpty(table)
		if err != nil {
			return 0, err
		}
		if !empty && t.dry {
			empty = slices.ContainsFunc(t.deleted, func(rt AppliedRoute) bool { return rt.Table == table })
		}
		if empty {
			return table, nil
		}
	}
}

// findMark gives a full tunnel without a configured fwmark the first free
// table from 51820 as its fwmark, as up does with its first default route.
func (t *txn) findMark() ([]step, error) {
	table, err := t.freeTable()
	if err != nil {
		return nil, err
	}
	var steps []step
	if uint32(table) != t.mark {
		m, um := table, int(t.mark)
		steps = append(steps, t.configure(fmt.Sprintf("wg set %s fwmark %d", t.iface, table), wgtypes.Config{FirewallMark: &m},
			t.linkAction(fmt.Sprintf("wg set %s fwmark %s", t.iface, markText(uint32(um))), t.configureFn(wgtypes.Config{FirewallMark: &um}))))
	}
	t.mark, t.markKnown = uint32(table), true
	return steps, nil
}

// addRules adds a full tunnel's two policy rules for a family, as up does.
func (t *txn) addRules(fam int) []step {
	mark := t.mark
	add := func(cmd string, rule route.Rule) step {
		return step{cmds: []string{cmd}, do: func() ([]action, error) {
			if err := t.e.addRule(rule, t.j); err != nil {
				return nil, err
			}
			u := t.j.Undo[len(t.j.Undo)-1]
			return []action{{cmd: ruleCmd("delete", u), fn: func() error { return t.e.Policy.DeleteRule(ruleOf(u)) }}}, nil
		}}
	}
	f := famFlag(fam)
	return []step{
		add(fmt.Sprintf("ip %s rule add not fwmark %d table %d", f, mark, mark), route.Rule{Family: fam, Table: int(mark), Mark: mark, Invert: true, SuppressPrefixlen: -1}),
		add(fmt.Sprintf("ip %s rule add table main suppress_prefixlength 0", f), route.Rule{Family: fam, Table: 254, SuppressPrefixlen: 0}),
	}
}

// addRule adds a policy rule with an explicit priority, the one the kernel
// would have picked for `ip rule add` without one, so the journal can later
// delete exactly this rule and no other interface's identical one.
func (e *Env) addRule(r route.Rule, j *Journal) error {
	prio, err := e.Policy.DefaultRulePriority(r.Family)
	if err != nil {
		return err
	}
	r.Priority = prio
	if err := j.record(Undo{Kind: UndoRule, Family: r.Family, Priority: r.Priority, Table: r.Table, Mark: r.Mark, Invert: r.Invert, Suppress: r.SuppressPrefixlen}); err != nil {
		return err
	}
	return e.Policy.AddRule(r)
}

func ruleOf(u Undo) route.Rule {
	return route.Rule{Family: u.Family, Priority: u.Priority, Table: u.Table, Mark: u.Mark, Invert: u.Invert, SuppressPrefixlen: u.Suppress}
}

// ruleCmd renders a rule as ip rule op, as undo prints them.
func ruleCmd(op string, u Undo) string {
	if u.Invert {
		return fmt.Sprintf("ip %s rule %s pref %d not fwmark %d table %d", famFlag(u.Family), op, u.Priority, u.Mark, u.Table)
	}
	return fmt.Sprintf("ip %s rule %s pref %d table main suppress_prefixlength %d", famFlag(u.Family), op, u.Priority, u.Suppress)
}

func (t *txn) deleteRule(u Undo) step {
	return step{cmds: []string{ruleCmd("delete", u)}, do: func() ([]action, error) {
		if err := t.e.Policy.DeleteRule(ruleOf(u)); err != nil && !notExist(err) {
			return nil, err
		}
		undo := []action{{cmd: ruleCmd("add", u), fn: func() error { return t.e.Policy.AddRule(ruleOf(u)) }}}
		return undo, t.dropRecords(func(x Undo) bool { return reflect.DeepEqual(x, u) })
	}}
}

// applyFirewall installs (or replaces) one family's firewall table.
func (t *txn) applyFirewall(rules firewall.Rules) (step, error) {
	backend, err := t.e.firewallBackend(t.j)
	if err != nil {
		return step{}, err
	}
	prev := t.fw
	t.fw = make(map[int]firewall.Rules, len(prev)+1)
	for f, x := range prev {
		t.fw[f] = x
	}
	t.fw[rules.Family] = rules
	cmd := firewall.ApplyCmd(backend, rules.Family)
	return step{cmds: []string{cmd}, do: func() ([]action, error) {
		if i := slices.IndexFunc(t.j.Undo, func(u Undo) bool { return u.Kind == UndoFirewall }); i < 0 {
			if err := t.j.record(Undo{Kind: UndoFirewall, Backend: backend, Families: []int{rules.Family}}); err != nil {
				return nil, err
			}
		} else if !slices.Contains(t.j.Undo[i].Families, rules.Family) {
			t.j.Undo[i].Families = append(t.j.Undo[i].Families, rules.Family)
			if err := t.j.save(); err != nil {
				return nil, err
			}
		}
		if err := t.e.Firewall.Apply(rules, backend); err != nil {
			return nil, err
		}
		if old, ok := prev[rules.Family]; ok {
			return []action{{cmd: cmd, fn: func() error { return t.e.Firewall.Apply(old, backend) }}}, nil
		}
		// The Firewall removes both families at once: remove, then put
		// back the other.
		undo := []action{{cmd: firewall.RemoveCmds(backend, []int{rules.Family})[0], fn: func() error { return t.e.Firewall.Remove(t.iface, backend) }}}
		return append(undo, t.applyFirewalls(prev, backend)...), nil
	}}, nil
}

// removeFirewall deletes every firewall table of the interface (the
// Firewall removes both families at once), with the backend that installed
// them; the families cfg keeps are applied again in phase 6.
func (t *txn) removeFirewall() step {
	prev := t.fw
	t.fw = map[int]firewall.Rules{}
	var rec Undo
	if i := slices.IndexFunc(t.j.Undo, func(u Undo) bool { return u.Kind == UndoFirewall }); i >= 0 {
		rec = t.j.Undo[i]
	}
	// Printed as up's rollback prints it.
	return step{cmds: firewall.RemoveCmds(rec.Backend, rec.Families), do: func() ([]action, error) {
		if err := t.e.Firewall.Remove(t.iface, rec.Backend); err != nil {
			return nil, err
		}
		return t.applyFirewalls(prev, rec.Backend), t.dropRecords(func(u Undo) bool { return u.Kind == UndoFirewall })
	}}
}

// applyFirewalls returns actions installing the given tables with backend.
func (t *txn) applyFirewalls(fw map[int]firewall.Rules, backend string) []action {
	var acts []action
	for _, f := range []int{6, 4} {
		if rules, ok := fw[f]; ok {
			acts = append(acts, action{cmd: firewall.ApplyCmd(backend, f), fn: func() error { return t.e.Firewall.Apply(rules, backend) }})
		}
	}
	return acts
}

func (t *txn) firewallRules(fam int, mark uint32, addrs []netip.Prefix) firewall.Rules {
	rules := firewall.Rules{Interface: t.iface, Mark: mark, Family: fam}
	for _, a := range addrs {
		if a.Addr().Is4() == (fam == 4) {
			rules.Addrs = append(rules.Addrs, a.Addr())
		}
	}
	return rules
}

// firewallBackend is the backend for j's interface's firewall rules: the
// one its recorded rules were installed with, else the one Backend picks.
func (e *Env) firewallBackend(j *Journal) (string, error) {
	if i := slices.IndexFunc(j.Undo, func(u Undo) bool { return u.Kind == UndoFirewall }); i >= 0 {
		if b := j.Undo[i].Backend; b != "" {
			return b, nil
		}
		return firewall.BackendNFT, nil // journals from before the backend was recorded
	}
	return e.Firewall.Backend()
}

// srcValidMark sets net.ipv4.conf.all.src_valid_mark as up does.
func (t *txn) srcValidMark() ([]step, error) {
	const key = "net.ipv4.conf.all.src_valid_mark"
	old, err := t.e.Policy.ReadSysctl(key)
	if err != nil {
		return nil, err
	}
	old = strings.TrimSpace(old)
	if old == "1" {
		return nil, nil
	}
	return []step{{cmds: []string{fmt.Sprintf("sysctl -q %s=1", key)}, do: func() ([]action, error) {
		if err := t.j.record(Undo{Kind: UndoSysctl, Key: key, Old: old}); err != nil {
			return nil, err
		}
		if err := t.e.Policy.WriteSysctl(key, "1"); err != nil {
			return nil, err
		}
		return []action{{cmd: fmt.Sprintf("sysctl -q %s=%s", key, old), fn: func() error { return t.e.Policy.WriteSysctl(key, old) }}}, nil
	}}}, nil
}

// fullFamilies are the families (4, 6) a configuration sends entirely
// through the tunnel with up's fwmark rules: Table auto and a /0 allowed.
func fullFamilies(a *Applied) map[int]bool {
	m := map[int]bool{}
	if a.Table != "" && a.Table != "auto" {
		return m
	}
	for _, p := range a.Peers {
		for _, pfx := range p.AllowedIPs {
			if pfx.Bits() == 0 {
				if pfx.Addr().Is4() {
					m[4] = true
				} else {
					m[6] = true
				}
			}
		}
	}
	return m
}
