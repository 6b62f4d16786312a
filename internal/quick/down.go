package quick

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"time"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
	"github.com/wgtools/wgtools/internal/firewall"
)

// Down takes the interface down: PreDown hooks, save to file if
// SaveConfig, then the recorded changes undone (rules, link, DNS,
// firewall), then PostDown.
func (e *Env) Down(ctx context.Context, iface string, cfg *config.Config, file string) error {
	start := time.Now()
	unlock, err := e.lock(ctx, iface)
	if err != nil {
		return err
	}
	defer unlock()
	names, err := e.Device.Names()
	if err != nil {
		return err
	}
	e.phase("lock+names", &start)
	j, err := e.loadJournal(iface)
	if err != nil {
		return err
	}
	if !slices.Contains(names, iface) {
		if j == nil {
			return notWireGuard(iface)
		}
		// The interface is gone (its userspace device was killed, or the
		// link deleted by hand) but what up set around it is not: remove
		// that. There is nothing to run hooks on or save.
		e.logf("[!] `%s' is gone; removing what wg-quick up set up for it.", iface)
		return e.undoDown(j)
	}
	if err := e.Hooks.Run(ctx, cfg.Interface.PreDown); err != nil {
		return err
	}
	if cfg.Interface.SaveConfig {
		// An edit made to the file while the interface was up wins: it is
		// kept, and down says so rather than fail.
		err := e.save(ctx, iface, cfg, file, j, SaveOptions{Canonical: e.SaveCanonical})
		if errors.Is(err, ErrEditedSince) {
			fmt.Fprintf(e.Stderr, "Warning: %v\nWarning: keeping the edited file; the interface's state is not saved\n", err)
		} else if err != nil {
			return err
		}
	}
	if j == nil {
		// Not brought up by us (or the state is gone): undo what the
		// configuration implies, as wg-quick does.
		j = e.journalFromConfig(iface, cfg)
	}
	e.phase("predown+save", &start)
	if err := e.undoDown(j); err != nil {
		return err
	}
	e.phase("undo+wait", &start)
	err = e.Hooks.Run(ctx, cfg.Interface.PostDown)
	e.phase("postdown", &start)
	return err
}

// undoDown undoes a journal in wg-quick's down order (policy rules, link,
// DNS, firewall), then waits briefly for a userspace device to go with its
// link: listing the interfaces removes its socket once nothing answers on
// it, as wg does, so no stale socket is left behind.
func (e *Env) undoDown(j *Journal) error {
	order := map[UndoKind]int{UndoSysctl: 0, UndoRule: 1, UndoLink: 2, UndoDNS: 3, UndoFirewall: 4}
	slices.SortStableFunc(j.Undo, func(a, b Undo) int { return cmp.Compare(order[b.Kind], order[a.Kind]) })
	userspace := slices.ContainsFunc(j.Undo, func(u Undo) bool { return u.Kind == UndoLink && u.Userspace })
	if err := e.undo(j); err != nil {
		return err
	}
	// A userspace device exits, removing its socket, once it sees its link
	// gone; wait for that (up to 5 s), so that an up right after this down
	// does not find the old socket. Polls start short: a device with 1,000
	// peers takes some 20 ms to stop them all.
	for wait, waited := 2*time.Millisecond, time.Duration(0); userspace && waited < 5*time.Second; wait = min(2*wait, 100*time.Millisecond) {
		names, err := e.Device.Names()
		if err != nil || !slices.Contains(names, j.Interface) {
			break
		}
		time.Sleep(wait)
		waited += wait
	}
	return nil
}

// undo reverts a journal's records in reverse order, as down does: the
// sysctl is left as it is, as wg-quick leaves it (other tunnels may rely
// on it). Every record is attempted; failures are joined.
func (e *Env) undo(j *Journal) error {
	var errs []error
	var left []Undo // records whose undo failed, newest first
	fail := func(u Undo, err error) {
		errs = append(errs, err)
		left = append(left, u)
	}
	for i := len(j.Undo) - 1; i >= 0; i-- {
		u := j.Undo[i]
		switch u.Kind {
		case UndoLink:
			e.cmdf("ip link delete dev %s", j.Interface)
			if err := e.Links.DeleteLink(j.Interface); err != nil && !notExist(err) {
				fail(u, err)
			}
		case UndoRule:
			e.cmdf("%s", ruleCmd("delete", u))
			if err := e.Policy.DeleteRule(ruleOf(u)); err != nil && !notExist(err) {
				fail(u, err)
			}
		case UndoFirewall:
			for _, c := range firewall.RemoveCmds(u.Backend, u.Families) {
				e.cmdf("%s", c)
			}
			if err := e.Firewall.Remove(j.Interface, u.Backend); err != nil {
				fail(u, err)
			}
		case UndoDNS:
			for _, step := range u.dnsSteps() {
				e.cmdf("%s", step)
				// wg-quick ignores failures here: the record may be gone.
				_ = e.DNS.Run(context.Background(), step, io.Discard)
			}
		case UndoSysctl:
			// Left set: forgotten with the rest.
		}
	}
	// What could not be undone stays in the journal, so that the next
	// down (or up of this name) tries again; the rest is forgotten.
	if len(left) > 0 {
		slices.Reverse(left)
		j.Undo = left
		j.Complete = false
		if err := j.save(); err != nil {
			errs = append(errs, fmt.Errorf("keeping what could not be undone in %s: %w", j.path, err))
		}
		return errors.Join(errs...)
	}
	if err := j.remove(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// notExist reports an undo target that is already gone (route reports a
// missing link, route or rule as fs.ErrNotExist).
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist)
}

// journalFromConfig reconstructs what an `up` of cfg would have recorded,
// for interfaces without a journal: every policy rule pointing at the
// device's fwmark table and, as wg-quick does, every main-table
// suppress_prefixlength 0 rule when the device routes a /0.
func (e *Env) journalFromConfig(iface string, cfg *config.Config) *Journal {
	j := e.newJournal(iface)
	j.Undo = append(j.Undo, Undo{Kind: UndoLink})
	if len(cfg.Interface.DNS) > 0 {
		j.Undo = append(j.Undo, e.dnsRecord(iface))
	}
	d, err := e.Device.Get(iface)
	if err != nil || d.FirewallMark == 0 || (cfg.Interface.Table != "" && cfg.Interface.Table != "auto") {
		return j
	}
	fullTunnel := false
	for _, p := range device.Config(d).Peers {
		for _, a := range p.AllowedIPs {
			fullTunnel = fullTunnel || a.Prefix.Bits() == 0
		}
	}
	if !fullTunnel {
		return j
	}
	for _, fam := range []int{4, 6} {
		rules, err := e.Policy.Rules(fam)
		if err != nil {
			continue
		}
		for _, r := range rules {
			if r.Table == d.FirewallMark || (r.Table == 254 && r.SuppressPrefixlen == 0) {
				j.Undo = append(j.Undo, Undo{Kind: UndoRule, Family: fam, Priority: r.Priority, Table: r.Table, Mark: r.Mark, Invert: r.Invert, Suppress: r.SuppressPrefixlen})
			}
		}
	}
	j.Undo = append(j.Undo, Undo{Kind: UndoFirewall})
	return j
}
