package quick

import (
	"context"
	"fmt"
	"slices"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
)

// ReloadOptions modify Reload.
type ReloadOptions struct {
	// DryRun prints the plan as `[#]` lines and changes nothing.
	DryRun bool
}

// Reload brings an interface that Up brought up to cfg with the fewest
// changes, comparing cfg with the configuration the journal says is in
// force (not with the device, whose endpoints roam):
//
//   - the device: the interface's private key, port and fwmark, and only
//     the peers that were added, removed or changed, each sent only the
//     fields that changed, so the untouched peers keep their sessions,
//     roamed endpoints and counters;
//   - addresses added and removed, the MTU (given, or computed again as up
//     does), DNS (unset, then set);
//   - routes, as up would add them for cfg (longest prefix first, prefixes
//     a route it did not add covers skipped, Table number, off or auto),
//     and the full tunnel's fwmark, policy rules, firewall and
//     src_valid_mark switched on or off, recorded in or removed from the
//     journal.
//
// Hooks are not run. Every change is printed as a `[#]` line. Like Up it
// is all or nothing: when a step fails (or ctx is cancelled) the steps
// already made are reverted in reverse order, restoring the previous state
// exactly, and the cause is returned. It holds the interface's lock.
//
// A change the UAPI cannot express is made by removing the peer and adding
// it again, which resets its session: an Endpoint deleted from the file.
func (e *Env) Reload(ctx context.Context, iface string, cfg *config.Config, opts ReloadOptions) error {
	pre, err := e.preresolve(ctx, iface, cfg)
	if err != nil {
		return err
	}
	unlock, err := e.lockExisting(ctx, iface)
	if err != nil {
		return err
	}
	defer unlock()
	// The journal read for preresolve serves if no one wrote it since
	// (replaying the applied-state log again would be the same work).
	j := pre
	if j == nil || !j.current() {
		if j, err = e.loadJournal(iface); err != nil {
			return err
		}
	}
	switch {
	case j == nil:
		return fmt.Errorf("`%s' was not brought up by wg-quick (no state in %s)", iface, e.StateDir)
	case !j.Complete:
		return fmt.Errorf("`%s' was not brought up completely; take it down first", iface)
	case j.Reloading:
		return e.restart(ctx, iface, cfg, j, opts)
	case j.Applied == nil:
		return fmt.Errorf("`%s' was brought up by a wg-quick without reload; take it down and up again", iface)
	}

	// Everything that can fail without a change is checked first.
	table, err := e.tableFor(cfg)
	if err != nil {
		return err
	}
	if err := e.DNS.Check(cfg.Interface.DNS); err != nil {
		return err
	}
	want, err := mergePeers(cfg)
	if err != nil {
		return err
	}
	t := &txn{
		e: e, ctx: ctx, iface: iface, dry: opts.DryRun, cfg: cfg, j: j,
		old: j.Applied, next: newApplied(cfg, want), want: want, table: table,
	}
	if err := t.resolve(); err != nil {
		return err
	}
	if t.dev, err = e.Device.Get(iface); err != nil {
		return fmt.Errorf("reading %s: %w", iface, device.Wrap(err))
	}
	addrs, err := e.Links.Addresses(iface)
	if err != nil {
		return err
	}
	t.addrs = slices.Clone(addrs)
	return t.execute()
}

// restart is Reload after a reload that was killed while it changed the
// interface: the journal's records of what to undo are exact (each is
// saved before its change), but Applied, the baseline a reload compares
// against, may not describe the interface. So the interface is taken down
// as the journal says and brought up again from cfg, without hooks (as
// reload runs none), which ends in exactly the state an up of cfg makes.
// Peers lose their sessions; that is the price of the crash.
func (e *Env) restart(ctx context.Context, iface string, cfg *config.Config, j *Journal, opts ReloadOptions) error {
	e.logf("[!] An earlier reload of `%s' was interrupted; restarting it from its configuration.", iface)
	if opts.DryRun {
		e.cmdf("wg-quick down %s && wg-quick up %s  # without hooks", iface, iface)
		return nil
	}
	if err := e.undoDown(j); err != nil {
		return err
	}
	return e.up(ctx, iface, cfg, false)
}

// preresolve looks up, before Reload takes the lock, the endpoint names
// reload will send: those that differ from the journal's, read without the
// lock (it is replaced whole, never written in place). Under the lock,
// resolve looks up only what a change meanwhile added to that. It returns
// the journal it read (nil if none could be), for Reload to use when it is
// still current.
func (e *Env) preresolve(ctx context.Context, iface string, cfg *config.Config) (*Journal, error) {
	j, err := e.loadJournal(iface)
	if err != nil || j == nil || j.Applied == nil || j.Reloading {
		return nil, nil // Reload reads it again and says what is wrong, under the lock
	}
	want, err := mergePeers(cfg)
	if err != nil {
		return j, nil
	}
	return j, (&txn{e: e, ctx: ctx, old: j.Applied, want: want}).resolve()
}

// resolve looks up the endpoint names reload will send: those of new peers
// and changed endpoints. Unchanged names are not looked up again (that is
// Reresolve's job).
func (t *txn) resolve() error {
	old := t.oldPeers()
	var c config.Config
	for _, w := range t.want {
		if w.Endpoint == nil || w.Endpoint.Addr.IsValid() {
			continue
		}
		if op, ok := old[w.Key.String()]; ok && op.Endpoint == endpointText(w.Endpoint) {
			continue
		}
		c.Peers = append(c.Peers, config.Peer{PublicKey: w.Key, Endpoint: w.Endpoint, Line: w.Line})
	}
	return config.ResolveEndpoints(t.ctx, &c, t.e.Resolver, config.Retry{Retries: t.e.Retries, Logf: t.e.logf})
}

func (t *txn) oldPeers() map[string]*AppliedPeer {
	m := make(map[string]*AppliedPeer, len(t.old.Peers))
	for i := range t.old.Peers {
		m[t.old.Peers[i].PublicKey] = &t.old.Peers[i]
	}
	return m
}
