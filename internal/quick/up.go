package quick

import (
	"context"
	"fmt"
	"time"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Up brings the interface up from cfg; on any failure (or ctx cancelled)
// it reverts every change it made and returns the cause.
//
// Endpoint names are looked up before the interface's lock is taken (with
// retries, a name that does not resolve takes over a minute), after the
// checks that come before them in up's order, so that a lookup never holds
// up another wg-quick working on the interface. Everything is checked
// again under the lock.
func (e *Env) Up(ctx context.Context, iface string, cfg *config.Config) (err error) {
	if _, err := e.upChecks(ctx, iface, cfg); err != nil {
		return err
	}
	unlock, err := e.lock(ctx, iface)
	if err != nil {
		return err
	}
	defer unlock()
	return e.up(ctx, iface, cfg, true)
}

// upChecks checks, without changing anything, what up needs before its
// first change: no interface of that name, the Table, a DNS tool, the
// endpoints' names (resolved into cfg; resolved ones are not looked up
// again). It returns the table.
func (e *Env) upChecks(ctx context.Context, iface string, cfg *config.Config) (table int, err error) {
	if exists, err := e.Links.LinkExists(iface); err != nil {
		return 0, err
	} else if exists {
		// Unless it is the interface of an up of ours that was killed
		// before it finished, which up takes down first.
		if h := peekJournal(journalPath(e.StateDir, iface)); h == nil || h.Complete {
			return 0, fmt.Errorf("`%s' already exists", iface)
		}
	}
	if table, err = e.tableFor(cfg); err != nil {
		return 0, err
	}
	if err := e.DNS.Check(cfg.Interface.DNS); err != nil {
		return 0, err
	}
	if err := config.ResolveEndpoints(ctx, cfg, e.Resolver, config.Retry{Retries: e.Retries, Logf: e.logf}); err != nil {
		return 0, err
	}
	return table, nil
}

// up is Up with the lock held; hooks says whether PreUp and PostUp run.
// It is a transaction from the empty state: the same steps as reload's,
// plus the link and the hooks.
func (e *Env) up(ctx context.Context, iface string, cfg *config.Config, hooks bool) (err error) {
	start := time.Now()

	// Everything that can be checked without changing the system is
	// checked first, so a bad file or a missing prerequisite changes
	// nothing at all.
	table, err := e.upChecks(ctx, iface, cfg)
	if err != nil {
		return err
	}
	wc, err := device.WGConfig(cfg, device.Set)
	if err != nil {
		return err
	}
	peers, err := mergePeers(cfg)
	if err != nil {
		return err
	}
	next := newApplied(cfg, peers)
	// A full tunnel needs a firewall; without one, fail before any change.
	if len(fullFamilies(next)) > 0 {
		if _, err := e.Firewall.Backend(); err != nil {
			return err
		}
	}
	// A journal here means an earlier `up` of this name that either lost
	// its interface without a `down` (its userspace device was killed, the
	// link was deleted by hand) or was killed before it finished (then the
	// link may still be there, and upChecks let it pass): undo what it
	// left behind first, or its rules would stay forever.
	if old, err := e.loadJournal(iface); err != nil {
		return err
	} else if old != nil {
		if old.Complete {
			e.logf("[!] Cleaning up after an earlier `%s' whose interface is gone.", iface)
		} else {
			e.logf("[!] Cleaning up after an earlier `%s' that did not finish.", iface)
		}
		if err := e.undoDown(old); err != nil {
			return fmt.Errorf("cleaning up the earlier %s: %w", iface, err)
		}
	}
	e.phase("checks", &start)
	t := &txn{
		e: e, ctx: ctx, iface: iface, fresh: true, hooks: hooks, cfg: cfg, wc: wc,
		j: e.newJournal(iface), old: &Applied{}, next: next, want: peers, table: table,
		dev: &wgtypes.Device{},
	}
	return t.execute()
}

// tableFor interprets Table: "" or "auto" → -1 (auto), "off" → 0,
// otherwise a table number or a name from rt_tables.
func (e *Env) tableFor(cfg *config.Config) (int, error) {
	switch t := cfg.Interface.Table; t {
	case "", "auto":
		return -1, nil
	case "off":
		return 0, nil
	default:
		id, err := e.Routes.TableID(t)
		if err != nil {
			return 0, fmt.Errorf("table `%s': %w", t, err)
		}
		return id, nil
	}
}
