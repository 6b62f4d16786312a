package quick

import (
	"context"
	"io"
	"slices"

	"github.com/wgtools/wgtools/internal/dns"
)

// Phase 5: DNS, unset with the commands recorded when it was set, then set
// anew.

func (t *txn) dnsSteps() ([]step, error) {
	o, n := t.old, t.next
	if slices.Equal(o.DNS, n.DNS) && (len(n.DNS) == 0 || slices.Equal(o.DNSSearch, n.DNSSearch)) {
		return nil, nil
	}
	var steps []step
	// Reverting must work after an interrupt too: rollback actions run
	// with a context that SIGINT does not cancel.
	undoCtx := context.WithoutCancel(t.ctx)
	run := func(ctx context.Context, ss []dns.Step, out io.Writer) error {
		for _, s := range ss {
			if err := t.e.DNS.Run(ctx, s, out); err != nil {
				return err
			}
		}
		return nil
	}
	for _, u := range t.j.Undo {
		if u.Kind != UndoDNS {
			continue
		}
		unset := u.dnsSteps()
		var cmds []string
		for _, s := range unset {
			cmds = append(cmds, s.String())
		}
		reset := t.e.DNS.SetSteps(t.iface, o.DNS, o.DNSSearch)
		steps = append(steps, step{cmds: cmds, do: func() ([]action, error) {
			// wg-quick ignores failures here: the record may be gone.
			for _, s := range unset {
				_ = t.e.DNS.Run(t.ctx, s, io.Discard)
			}
			var acts []action
			for _, s := range reset {
				acts = append(acts, action{cmd: s.String(), fn: func() error { return run(undoCtx, []dns.Step{s}, t.e.Stderr) }})
			}
			return acts, t.dropRecords(func(x Undo) bool { return x.Kind == UndoDNS })
		}})
	}
	set := t.e.DNS.SetSteps(t.iface, n.DNS, n.DNSSearch)
	if len(set) == 0 {
		return steps, nil
	}
	var cmds []string
	for _, s := range set {
		cmds = append(cmds, s.String())
	}
	rec := t.e.dnsRecord(t.iface)
	unset := rec.dnsSteps()
	steps = append(steps, step{cmds: cmds, do: func() ([]action, error) {
		if err := t.j.record(rec); err != nil {
			return nil, err
		}
		var acts []action
		for _, s := range unset {
			acts = append(acts, action{cmd: s.String(), fn: func() error { _ = t.e.DNS.Run(undoCtx, s, io.Discard); return nil }})
		}
		// What ran of a failing set may have set something: revert it too.
		return acts, run(t.ctx, set, t.e.Stderr)
	}})
	return steps, nil
}

// dnsRecord is the record of DNS set for iface: the commands that unset
// it, with the DNS tool in use now.
func (e *Env) dnsRecord(iface string) Undo {
	var cmds []Command
	for _, s := range e.DNS.UnsetSteps(iface) {
		cmds = append(cmds, Command{Name: s.Cmd.Name, Args: s.Cmd.Args})
	}
	return Undo{Kind: UndoDNS, DNSUndo: cmds}
}

// dnsSteps are a DNS record's commands.
func (u Undo) dnsSteps() []dns.Step {
	steps := make([]dns.Step, 0, len(u.DNSUndo))
	for _, c := range u.DNSUndo {
		var s dns.Step
		s.Cmd.Name, s.Cmd.Args = c.Name, c.Args
		steps = append(steps, s)
	}
	return steps
}
