package quick

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"time"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/firewall"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// txn is one transaction: up, or a reload. It brings an interface from
// the configuration in force (old; for up, the empty one, with no link) to
// cfg's, one concern per phase (link, device, teardown, addresses, MTU,
// DNS, routes and the full tunnel), each written once for both. Each phase
// is planned against a model of the state the previous phases leave (the
// fields under "The model"), so that a dry run, which changes nothing,
// prints what a real one would do; only observations of what the
// transaction does not control (routes others added, free tables, the path
// MTU) are read from the system, after the previous phases ran.
type txn struct {
	e     *Env
	ctx   context.Context
	iface string
	dry   bool
	// fresh is up: the link does not exist and is made by the link phase,
	// the device gets cfg whole (`wg addconf`), PreUp and PostUp run when
	// hooks is set, and what dies with the link is not reverted one by
	// one on rollback.
	fresh bool
	hooks bool
	cfg   *config.Config
	wc    wgtypes.Config // cfg for the device (fresh only)
	j     *Journal
	old   *Applied // the configuration in force
	next  *Applied // cfg's, Mark and Routes filled in as planned
	want  []*wantPeer
	table int             // cfg's Table: -1 auto, 0 off, else a table
	dev   *wgtypes.Device // the device before the transaction
	addrs []netip.Prefix  // the link's addresses before the transaction

	done     []doneStep // steps made, for rollback
	madeLink bool       // the link phase made the link: rollback deletes it

	// The model.
	mark      uint32                 // the device's fwmark
	markKnown bool                   // mark is final (else a full tunnel searches a table)
	routes    []AppliedRoute         // the routes the transaction owns
	owned     map[AppliedRoute]bool  // routes, indexed
	deleted   []AppliedRoute         // owned routes deleted (still there in a dry run)
	rules     map[int]bool           // families whose full-tunnel rules stay
	fw        map[int]firewall.Rules // the firewall tables in place
	sent      map[wgtypes.Key]bool   // peers whose endpoint phase 1 sets (or, added, leaves unset)
	devPeers  map[wgtypes.Key]*wgtypes.Peer
}

// step is one change: the commands it stands for, and do, which makes it
// and returns the actions that revert it. do also updates the journal's
// records, saving them before an addition and after a removal, so that a
// crash never leaves a change down cannot find. A do that fails after
// changing something (the journal could not be saved) returns the actions
// reverting that change along with its error.
type step struct {
	cmds []string
	do   func() ([]action, error)
}

// action reverts (part of) a step during rollback. onLink says that
// deleting the link reverts it too (an address, a route through the
// link, the device's configuration): a rollback that deletes the link
// skips it.
type action struct {
	cmd    string
	fn     func() error
	onLink bool
}

// linkAction is an action that deleting the link makes unnecessary.
func (t *txn) linkAction(cmd string, fn func() error) action {
	return action{cmd: cmd, fn: fn, onLink: true}
}

type doneStep struct {
	undo    []action
	records []Undo // the journal's records before the step
}

// phase is one concern's planner: it returns the steps that bring the
// concern from the model's state to cfg's.
type phase struct {
	name string // for Env.Trace
	plan func() ([]step, error)
}

// execute plans and runs each phase in turn, then commits cfg's Applied
// to the journal. On failure (or ctx cancelled) it rolls back what it
// made, last first, and returns the cause.
func (t *txn) execute() (err error) {
	t.mark, t.markKnown = t.old.Mark, true
	t.routes = slices.Clone(t.old.Routes)
	t.owned = make(map[AppliedRoute]bool, len(t.routes))
	for _, rt := range t.routes {
		t.owned[rt] = true
	}
	t.rules = map[int]bool{}
	t.fw = map[int]firewall.Rules{}
	t.sent = map[wgtypes.Key]bool{}
	if slices.ContainsFunc(t.j.Undo, func(u Undo) bool { return u.Kind == UndoFirewall }) {
		for f := range fullFamilies(t.old) {
			t.fw[f] = t.firewallRules(f, t.old.Mark, t.addrs)
		}
	}
	defer func() {
		if err != nil && !t.dry {
			if rerr := t.rollback(); rerr != nil {
				err = errors.Join(err, fmt.Errorf("rolling back: %w", rerr))
			}
		}
	}()
	start := time.Now()
	for _, ph := range t.phases() {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		steps, err := ph.plan()
		if err != nil {
			return err
		}
		if err := t.run(steps); err != nil {
			return err
		}
		t.e.phase(ph.name, &start)
	}
	if err := t.ctx.Err(); err != nil {
		return err
	}
	if t.dry {
		return nil
	}
	t.next.Mark, t.next.Routes = t.mark, t.routes
	mark := t.j.File
	if err := t.j.markFile(t.e.ConfigData); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	if t.fresh {
		t.j.Applied, t.j.Complete = t.next, true
		if err := t.j.save(); err != nil {
			// Not up after all: the rollback's journal writes must not
			// say it is.
			t.j.Applied, t.j.Complete = nil, false
			return fmt.Errorf("saving state: %w", err)
		}
		t.e.phase("journal", &start)
		return nil
	}
	if reflect.DeepEqual(t.j.Applied, t.next) && !t.j.Reloading && t.j.File == mark {
		return nil
	}
	t.j.Applied, t.j.Reloading = t.next, false
	if err := t.j.save(); err != nil {
		t.j.Applied, t.j.Reloading, t.j.File = t.old, true, mark
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

// phases are the concerns in the order up makes them (and reload, which
// runs no hooks and has no link to make).
func (t *txn) phases() []phase {
	if t.fresh {
		// Nothing to tear down on a new link.
		return []phase{{"link", t.linkSteps}, {"preup", t.hookSteps(t.cfg.Interface.PreUp)},
			{"device", t.deviceSteps}, {"addresses", t.addressSteps}, {"mtu", t.mtuSteps},
			{"dns", t.dnsSteps}, {"routes", t.routeSteps}, {"postup", t.hookSteps(t.cfg.Interface.PostUp)}}
	}
	return []phase{{"device", t.deviceSteps}, {"teardown", t.teardownSteps}, {"addresses", t.addressSteps},
		{"mtu", t.mtuSteps}, {"dns", t.dnsSteps}, {"routes", t.routeSteps}}
}

// hookSteps runs hook commands (printed by the runner as it runs them)
// when the transaction runs hooks. Nothing reverts a hook.
func (t *txn) hookSteps(cmds []string) func() ([]step, error) {
	return func() ([]step, error) {
		if !t.hooks || len(cmds) == 0 {
			return nil, nil
		}
		return []step{{do: func() ([]action, error) { return nil, t.e.Hooks.Run(t.ctx, cmds) }}}, nil
	}
}

// begin marks the journal Reloading before a reload's first change, so
// that a reload killed from here on is seen by the next one (see restart).
// An up needs no mark: its journal says Complete only at the end.
func (t *txn) begin() error {
	if t.fresh || t.j.Reloading {
		return nil
	}
	t.j.Reloading = true
	if err := t.j.save(); err != nil {
		t.j.Reloading = false
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

// run prints and (unless dry) makes each step; on failure the journal's
// records are put back as they were before the failed step.
func (t *txn) run(steps []step) error {
	for _, s := range steps {
		for _, c := range s.cmds {
			t.e.cmdf("%s", c)
		}
		if t.dry {
			continue
		}
		if err := t.begin(); err != nil {
			return err
		}
		before := slices.Clone(t.j.Undo)
		undo, err := s.do()
		if err != nil {
			errs := []error{err}
			for _, a := range undo {
				errs = append(errs, t.revert(a))
			}
			return errors.Join(append(errs, t.setRecords(before))...)
		}
		t.done = append(t.done, doneStep{undo: undo, records: before})
	}
	return nil
}

// revert runs one action of a rollback, unless deleting the link the
// transaction made reverts it anyway.
func (t *txn) revert(a action) error {
	if a.onLink && t.madeLink {
		return nil
	}
	if a.cmd != "" {
		t.e.cmdf("%s", a.cmd)
	}
	return a.fn()
}

// rollback reverts the steps made, last first, restoring the journal's
// records with each. Every action is attempted; failures are joined, and
// the records of a step that could not be reverted stay in the journal,
// so that the next down (or up of this name) tries again. An up rolled
// back in full leaves no journal.
func (t *txn) rollback() error {
	var errs []error
	var kept []Undo // records of what could not be reverted
	for i := len(t.done) - 1; i >= 0; i-- {
		d := t.done[i]
		failed := false
		for _, a := range d.undo {
			if err := t.revert(a); err != nil {
				errs, failed = append(errs, err), true
			}
		}
		if failed {
			for _, u := range t.j.Undo {
				same := func(x Undo) bool { return reflect.DeepEqual(x, u) }
				if !slices.ContainsFunc(d.records, same) && !slices.ContainsFunc(kept, same) {
					kept = append(kept, u)
				}
			}
		}
		if err := t.setRecords(append(slices.Clone(d.records), kept...)); err != nil {
			errs = append(errs, err)
		}
	}
	t.done = nil
	switch {
	case len(errs) > 0:
	case t.fresh:
		// Nothing of this up is left.
		if err := t.j.remove(); err != nil {
			errs = append(errs, err)
		}
	case t.j.Reloading:
		// Rolled back in full: the interface is as Applied says again.
		t.j.Reloading = false
		if err := t.j.save(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (t *txn) setRecords(records []Undo) error {
	if reflect.DeepEqual(records, t.j.Undo) {
		return nil
	}
	t.j.Undo = records
	return t.j.save()
}

// dropRecords removes the journal records match selects and saves.
func (t *txn) dropRecords(match func(Undo) bool) error {
	t.j.Undo = slices.DeleteFunc(slices.Clone(t.j.Undo), match)
	return t.j.save()
}
