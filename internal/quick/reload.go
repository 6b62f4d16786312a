package quick

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
	"github.com/wgtools/wgtools/internal/dns"
	"github.com/wgtools/wgtools/internal/firewall"
	"github.com/wgtools/wgtools/internal/keys"
	"github.com/wgtools/wgtools/internal/route"
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
		return &Error{fmt.Sprintf("`%s' was not brought up by wg-quick (no state in %s)", iface, e.StateDir)}
	case !j.Complete:
		return &Error{fmt.Sprintf("`%s' was not brought up completely; take it down first", iface)}
	case j.Reloading:
		return e.restart(ctx, iface, cfg, j, opts)
	case j.Applied == nil:
		return &Error{fmt.Sprintf("`%s' was brought up by a wg-quick without reload; take it down and up again", iface)}
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
	r := &reloader{
		e: e, ctx: ctx, iface: iface, dry: opts.DryRun, cfg: cfg, j: j,
		old: j.Applied, next: newApplied(cfg, want), want: want, table: table,
	}
	if err := r.resolve(); err != nil {
		return err
	}
	if r.dev, err = e.Device.Get(iface); err != nil {
		return fmt.Errorf("reading %s: %s", iface, device.Strerror(err))
	}
	addrs, err := e.Router.Addresses(iface)
	if err != nil {
		return err
	}
	r.addrs = slices.Clone(addrs)
	return r.reload()
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
	return j, (&reloader{e: e, ctx: ctx, old: j.Applied, want: want}).resolve()
}

// reloader is one run of Reload. Each phase is planned against a model of
// the state the previous phases leave (the fields under "The model"), so that
// a dry run, which changes nothing, prints what a real one would do; only
// observations of what reload does not control (routes others added, free
// tables, the path MTU) are read from the system, after the previous phases
// ran.
type reloader struct {
	e     *Env
	ctx   context.Context
	iface string
	dry   bool
	cfg   *config.Config
	j     *Journal
	old   *Applied // the configuration in force
	next  *Applied // cfg's, Mark and Routes filled in as planned
	want  []*wantPeer
	table int             // cfg's Table: -1 auto, 0 off, else a table
	dev   *wgtypes.Device // the device before reload
	addrs []netip.Prefix  // the link's addresses before reload

	done []doneStep // steps made, for rollback

	// The model.
	mark      uint32                 // the device's fwmark
	markKnown bool                   // mark is final (else a full tunnel searches a table)
	routes    []AppliedRoute         // the routes reload owns
	deleted   []AppliedRoute         // owned routes deleted (still there in a dry run)
	rules     map[int]bool           // families whose full-tunnel rules stay
	fw        map[int]firewall.Rules // the firewall tables in place
	sent      map[wgtypes.Key]bool   // peers whose endpoint phase 1 sets (or, added, leaves unset)
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

// action reverts (part of) a step during rollback.
type action struct {
	cmd string
	fn  func() error
}

type doneStep struct {
	undo    []action
	records []Undo // the journal's records before the step
}

func (r *reloader) reload() (err error) {
	r.mark, r.markKnown = r.old.Mark, true
	r.routes = slices.Clone(r.old.Routes)
	r.rules = map[int]bool{}
	r.fw = map[int]firewall.Rules{}
	if slices.ContainsFunc(r.j.Undo, func(u Undo) bool { return u.Kind == "firewall" }) {
		for f := range fullFamilies(r.old) {
			r.fw[f] = r.firewallRules(f, r.old.Mark, r.addrs)
		}
	}
	defer func() {
		if err != nil && !r.dry {
			if rerr := r.rollback(); rerr != nil {
				err = errors.Join(err, fmt.Errorf("rolling back: %w", rerr))
			}
		}
	}()
	phases := []func() ([]step, error){r.deviceSteps, r.teardownSteps, r.addressSteps, r.mtuSteps, r.dnsSteps, r.routeSteps}
	for _, phase := range phases {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		steps, err := phase()
		if err != nil {
			return err
		}
		if err := r.run(steps); err != nil {
			return err
		}
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if r.dry {
		return nil
	}
	r.next.Mark, r.next.Routes = r.mark, r.routes
	if reflect.DeepEqual(r.j.Applied, r.next) && !r.j.Reloading {
		return nil
	}
	r.j.Applied, r.j.Reloading = r.next, false
	if err := r.j.save(); err != nil {
		r.j.Applied, r.j.Reloading = r.old, true
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

// begin marks the journal Reloading before the first change, so that a
// reload killed from here on is seen by the next one (see restart).
func (r *reloader) begin() error {
	if r.j.Reloading {
		return nil
	}
	r.j.Reloading = true
	if err := r.j.save(); err != nil {
		r.j.Reloading = false
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

// run prints and (unless dry) makes each step; on failure the journal's
// records are put back as they were before the failed step.
func (r *reloader) run(steps []step) error {
	for _, s := range steps {
		for _, c := range s.cmds {
			r.e.cmdf("%s", c)
		}
		if r.dry {
			continue
		}
		if err := r.begin(); err != nil {
			return err
		}
		before := slices.Clone(r.j.Undo)
		undo, err := s.do()
		if err != nil {
			errs := []error{err}
			for _, a := range undo {
				r.e.cmdf("%s", a.cmd)
				errs = append(errs, a.fn())
			}
			return errors.Join(append(errs, r.setRecords(before))...)
		}
		r.done = append(r.done, doneStep{undo: undo, records: before})
	}
	return nil
}

// rollback reverts the steps made, last first, restoring the journal's
// records with each. Every action is attempted; failures are joined.
func (r *reloader) rollback() error {
	var errs []error
	for i := len(r.done) - 1; i >= 0; i-- {
		d := r.done[i]
		for _, a := range d.undo {
			if a.cmd != "" {
				r.e.cmdf("%s", a.cmd)
			}
			if err := a.fn(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := r.setRecords(d.records); err != nil {
			errs = append(errs, err)
		}
	}
	r.done = nil
	// Rolled back in full: the interface is as Applied says again.
	if len(errs) == 0 && r.j.Reloading {
		r.j.Reloading = false
		if err := r.j.save(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *reloader) setRecords(records []Undo) error {
	if reflect.DeepEqual(records, r.j.Undo) {
		return nil
	}
	r.j.Undo = records
	return r.j.save()
}

// dropRecords removes the journal records match selects and saves.
func (r *reloader) dropRecords(match func(Undo) bool) error {
	r.j.Undo = slices.DeleteFunc(slices.Clone(r.j.Undo), match)
	return r.j.save()
}

// resolve looks up the endpoint names reload will send: those of new peers
// and changed endpoints. Unchanged names are not looked up again (that is
// Reresolve's job).
func (r *reloader) resolve() error {
	old := r.oldPeers()
	var c config.Config
	for _, w := range r.want {
		if w.endpoint == nil || w.endpoint.Addr.IsValid() {
			continue
		}
		if op, ok := old[w.key.String()]; ok && op.Endpoint == endpointText(w.endpoint) {
			continue
		}
		c.Peers = append(c.Peers, config.Peer{PublicKey: w.key, Endpoint: w.endpoint, Line: w.line})
	}
	return config.ResolveEndpoints(r.ctx, &c, r.e.Resolver, config.Retry{Retries: r.e.Retries, Logf: r.e.logf})
}

func (r *reloader) oldPeers() map[string]*AppliedPeer {
	m := make(map[string]*AppliedPeer, len(r.old.Peers))
	for i := range r.old.Peers {
		m[r.old.Peers[i].PublicKey] = &r.old.Peers[i]
	}
	return m
}

// plannedMark is the fwmark cfg gives the device, as up would: FwMark,
// else (known false) a table a full tunnel must search for, except that a
// full tunnel keeping the table it found keeps it; else none.
func (r *reloader) plannedMark() (mark uint32, known bool) {
	if m := r.cfg.Interface.FwMark; m != nil && *m != 0 {
		return *m, true
	}
	if len(fullFamilies(r.next)) == 0 {
		return 0, true
	}
	if m := r.old.FwMark; (m == nil || *m == 0) && len(fullFamilies(r.old)) > 0 && r.old.Mark != 0 {
		return r.old.Mark, true
	}
	return 0, false
}

// Phase 1: the device.

func (r *reloader) deviceSteps() ([]step, error) {
	var steps []step
	old, next, d := r.old, r.next, r.dev

	var c, undo wgtypes.Config
	var parts, undoParts []string
	if !equalPtr(old.ListenPort, next.ListenPort) {
		p := 0
		if next.ListenPort != nil {
			p = *next.ListenPort
		}
		up := d.ListenPort
		c.ListenPort, undo.ListenPort = &p, &up
		parts = append(parts, fmt.Sprintf("listen-port %d", p))
		undoParts = append(undoParts, fmt.Sprintf("listen-port %d", up))
	}
	mark, known := r.plannedMark()
	if known && mark != old.Mark {
		m, um := int(mark), d.FirewallMark
		c.FirewallMark, undo.FirewallMark = &m, &um
		parts = append(parts, "fwmark "+markText(uint32(m)))
		undoParts = append(undoParts, "fwmark "+markText(uint32(um)))
		r.mark = mark
	}
	r.markKnown = known
	if next.PublicKey != old.PublicKey {
		var k wgtypes.Key
		if pk := r.cfg.Interface.PrivateKey; pk != nil {
			k = *pk
		}
		uk := d.PrivateKey
		c.PrivateKey, undo.PrivateKey = &k, &uk
		parts = append(parts, "private-key "+keyFile(k))
		undoParts = append(undoParts, "private-key "+keyFile(uk))
	}
	if len(parts) > 0 {
		steps = append(steps, r.configure("wg set "+r.iface+" "+strings.Join(parts, " "), c,
			action{cmd: "wg set " + r.iface + " " + strings.Join(undoParts, " "), fn: r.configureFn(undo)}))
	}

	// Peers: removals first, then additions and changes in file order.
	oldBy := r.oldPeers()
	wantBy := make(map[string]*wantPeer, len(r.want))
	owner := make(map[netip.Prefix]wgtypes.Key) // in cfg
	for _, w := range r.want {
		wantBy[w.key.String()] = w
		for _, p := range w.allowed {
			owner[p] = w.key
		}
	}
	r.sent = map[wgtypes.Key]bool{}
	for _, op := range old.Peers {
		if wantBy[op.PublicKey] != nil {
			continue
		}
		k, err := wgtypes.ParseKey(op.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("reading state %s: peer %q: %w", r.j.path, op.PublicKey, err)
		}
		steps = append(steps, r.removePeer(k))
	}
	for _, w := range r.want {
		op := oldBy[w.key.String()]
		switch {
		case op == nil:
			steps = append(steps, r.addPeer(w, true))
		case op.Endpoint != "" && w.endpoint == nil:
			// The UAPI cannot take an endpoint away; a new peer has none.
			steps = append(steps, r.removePeer(w.key), r.addPeer(w, false))
		default:
			if s, ok := r.changePeer(op, w, owner); ok {
				steps = append(steps, s)
			}
		}
	}
	return steps, nil
}

// configure is a step sending c, reverted by undo.
func (r *reloader) configure(cmd string, c wgtypes.Config, undo ...action) step {
	return step{cmds: []string{cmd}, do: func() ([]action, error) {
		if err := r.configureFn(c)(); err != nil {
			return nil, err
		}
		return undo, nil
	}}
}

func (r *reloader) configureFn(c wgtypes.Config) func() error {
	return func() error {
		if err := r.e.Device.Configure(r.iface, c); err != nil {
			return fmt.Errorf("configuring %s: %s", r.iface, device.Strerror(err))
		}
		return nil
	}
}

// peerAction sends one peer's configuration, printed as wg set.
func (r *reloader) peerAction(pc wgtypes.PeerConfig) action {
	return action{cmd: r.peerCmd(pc), fn: r.configureFn(wgtypes.Config{Peers: []wgtypes.PeerConfig{pc}})}
}

func (r *reloader) devPeer(k wgtypes.Key) *wgtypes.Peer {
	for i := range r.dev.Peers {
		if r.dev.Peers[i].PublicKey == k {
			return &r.dev.Peers[i]
		}
	}
	return nil
}

// restorePeer returns the actions that give peer k its state from before
// reload, taking its allowed IPs back from whoever holds them; gave lists
// the prefixes the step being reverted gave k, which go back to the peers
// that held them (if those exist at that point).
func (r *reloader) restorePeer(k wgtypes.Key, gave []netip.Prefix) []action {
	acts := []action{r.peerAction(wgtypes.PeerConfig{PublicKey: k, Remove: true})}
	if dp := r.devPeer(k); dp != nil {
		acts = append(acts, r.peerAction(fullPeerConfig(dp)))
	}
	return append(acts, r.giveBack(k, gave)...)
}

// giveBack returns the actions that return prefixes a step gave peer k to
// the peers that held them before reload. update_only keeps a peer removed
// by an earlier step from being created: reverting that step restores its
// whole state anyway.
func (r *reloader) giveBack(k wgtypes.Key, gave []netip.Prefix) []action {
	var acts []action
	for _, dp := range r.dev.Peers {
		if dp.PublicKey == k {
			continue
		}
		var back []net.IPNet
		for _, n := range dp.AllowedIPs {
			if p, ok := device.Prefix(n); ok && slices.Contains(gave, p.Masked()) {
				back = append(back, n)
			}
		}
		if len(back) > 0 {
			acts = append(acts, r.peerAction(wgtypes.PeerConfig{PublicKey: dp.PublicKey, UpdateOnly: true, AllowedIPs: back}))
		}
	}
	return acts
}

func (r *reloader) removePeer(k wgtypes.Key) step {
	pc := wgtypes.PeerConfig{PublicKey: k, Remove: true}
	var undo []action
	if dp := r.devPeer(k); dp != nil {
		undo = append(undo, r.peerAction(fullPeerConfig(dp)))
	}
	return r.configure(r.peerCmd(pc), wgtypes.Config{Peers: []wgtypes.PeerConfig{pc}}, undo...)
}

// addPeer adds a peer, reverted by removing it and, if restore, giving it
// back its state from before reload if it had one (a removal it follows
// otherwise does that).
func (r *reloader) addPeer(w *wantPeer, restore bool) step {
	pc := wgtypes.PeerConfig{PublicKey: w.key, ReplaceAllowedIPs: true, AllowedIPs: ipNets(w.allowed)}
	if w.psk != (wgtypes.Key{}) {
		k := w.psk
		pc.PresharedKey = &k
	}
	if w.endpoint != nil {
		pc.Endpoint = udpAddr(w.endpoint)
	}
	r.sent[w.key] = true // its endpoint is the one sent, or none
	if w.keepalive != 0 {
		d := time.Duration(w.keepalive) * time.Second
		pc.PersistentKeepaliveInterval = &d
	}
	undo := append([]action{r.peerAction(wgtypes.PeerConfig{PublicKey: w.key, Remove: true})}, r.giveBack(w.key, w.allowed)...)
	if restore {
		undo = r.restorePeer(w.key, w.allowed)
	}
	return r.configure(r.peerCmd(pc), wgtypes.Config{Peers: []wgtypes.PeerConfig{pc}}, undo...)
}

// changePeer sends what changed of a peer, and is reverted by sending the
// device's values from before. An allowed-IPs list that only lost prefixes
// other peers of cfg now hold is not sent: the device moves a prefix to
// the peer given it last, so sending those peers is enough.
func (r *reloader) changePeer(op *AppliedPeer, w *wantPeer, owner map[netip.Prefix]wgtypes.Key) (step, bool) {
	nw := w.applied()
	pc := wgtypes.PeerConfig{PublicKey: w.key}
	undo := wgtypes.PeerConfig{PublicKey: w.key}
	dp := r.devPeer(w.key)
	if dp == nil {
		dp = &wgtypes.Peer{PublicKey: w.key}
	}
	recreate := false // reverting needs the peer removed and added again
	if nw.PSK != op.PSK {
		k, uk := w.psk, dp.PresharedKey
		pc.PresharedKey, undo.PresharedKey = &k, &uk
	}
	if nw.Endpoint != op.Endpoint {
		pc.Endpoint = udpAddr(w.endpoint)
		r.sent[w.key] = true
		undo.Endpoint = dp.Endpoint
		recreate = dp.Endpoint == nil
	}
	if nw.Keepalive != op.Keepalive {
		d, ud := time.Duration(w.keepalive)*time.Second, dp.PersistentKeepaliveInterval
		pc.PersistentKeepaliveInterval, undo.PersistentKeepaliveInterval = &d, &ud
	}
	var gave []netip.Prefix
	if !samePrefixes(nw.AllowedIPs, op.AllowedIPs) && !lostToOthers(op.AllowedIPs, nw.AllowedIPs, w.key, owner) {
		pc.ReplaceAllowedIPs, pc.AllowedIPs = true, ipNets(w.allowed)
		undo.ReplaceAllowedIPs, undo.AllowedIPs = true, dp.AllowedIPs
		gave = w.allowed
	}
	if pc.PresharedKey == nil && pc.Endpoint == nil && pc.PersistentKeepaliveInterval == nil && !pc.ReplaceAllowedIPs {
		return step{}, false
	}
	var acts []action
	if recreate || r.devPeer(w.key) == nil {
		acts = r.restorePeer(w.key, gave)
	} else {
		acts = append([]action{r.peerAction(undo)}, r.giveBack(w.key, gave)...)
	}
	return r.configure(r.peerCmd(pc), wgtypes.Config{Peers: []wgtypes.PeerConfig{pc}}, acts...), true
}

// lostToOthers reports whether the new list is the old one minus prefixes
// that other peers of cfg hold.
func lostToOthers(old, new []netip.Prefix, k wgtypes.Key, owner map[netip.Prefix]wgtypes.Key) bool {
	for _, p := range new {
		if !slices.Contains(old, p) {
			return false
		}
	}
	for _, p := range old {
		if slices.Contains(new, p) {
			continue
		}
		if o, ok := owner[p]; !ok || o == k {
			return false
		}
	}
	return true
}

// peerCmd renders a peer's configuration as wg set arguments.
func (r *reloader) peerCmd(pc wgtypes.PeerConfig) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wg set %s peer %s", r.iface, pc.PublicKey)
	if pc.Remove {
		b.WriteString(" remove")
		return b.String()
	}
	if pc.PresharedKey != nil {
		b.WriteString(" preshared-key " + keyFile(*pc.PresharedKey))
	}
	if pc.Endpoint != nil {
		b.WriteString(" endpoint " + udpText(pc.Endpoint))
	}
	if pc.PersistentKeepaliveInterval != nil {
		b.WriteString(" persistent-keepalive ")
		if s := int(*pc.PersistentKeepaliveInterval / time.Second); s != 0 {
			b.WriteString(strconv.Itoa(s))
		} else {
			b.WriteString("off")
		}
	}
	if pc.ReplaceAllowedIPs || len(pc.AllowedIPs) > 0 {
		var ips []string
		for _, n := range pc.AllowedIPs {
			p, _ := device.Prefix(n)
			s := p.String()
			if !pc.ReplaceAllowedIPs {
				s = "+" + s
			}
			ips = append(ips, s)
		}
		if len(ips) == 0 {
			ips = []string{"''"}
		}
		b.WriteString(" allowed-ips " + strings.Join(ips, ","))
	}
	return b.String()
}

// Phase 2: what cfg no longer wants of the routing: full-tunnel rules and
// firewall tables, and routes. Removing them before anything is added lets
// a full tunnel find the same free table as up would.

func (r *reloader) teardownSteps() ([]step, error) {
	var steps []step
	newFull := fullFamilies(r.next)
	for _, u := range r.j.Undo {
		if u.Kind != "rule" {
			continue
		}
		if newFull[u.Family] && r.markKnown && r.mark == r.old.Mark {
			r.rules[u.Family] = true
			continue
		}
		steps = append(steps, r.deleteRule(u))
	}

	want := r.candidateRoutes()
	for _, rt := range r.old.Routes {
		if !want[rt] {
			steps = append(steps, r.deleteRoute(rt))
		}
	}

	for f := range r.fw {
		if !newFull[f] {
			steps = append(steps, r.removeFirewall())
			break
		}
	}
	return steps, nil
}

// candidateRoutes are the routes cfg may want, before coverage is known.
func (r *reloader) candidateRoutes() map[AppliedRoute]bool {
	m := map[AppliedRoute]bool{}
	for _, p := range allowedPrefixes(r.next) {
		switch {
		case r.table > 0:
			m[AppliedRoute{Prefix: p, Table: r.table}] = true
		case r.table == 0:
		case p.Bits() == 0:
			if r.markKnown {
				m[AppliedRoute{Prefix: p, Table: int(r.mark)}] = true
			}
		default:
			m[AppliedRoute{Prefix: p}] = true
		}
	}
	return m
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

func (r *reloader) deleteRule(u Undo) step {
	return step{cmds: []string{ruleCmd("delete", u)}, do: func() ([]action, error) {
		if err := r.e.Router.DeleteRule(ruleOf(u)); err != nil && !notExist(err) {
			return nil, err
		}
		undo := []action{{cmd: ruleCmd("add", u), fn: func() error { return r.e.Router.AddRule(ruleOf(u)) }}}
		return undo, r.dropRecords(func(x Undo) bool { return reflect.DeepEqual(x, u) })
	}}
}

// routeCmd renders a route as ip route op; cfg's table is printed as
// written (a number or a name), as up prints it.
func (r *reloader) routeCmd(op string, rt AppliedRoute) string {
	s := fmt.Sprintf("ip %s route %s %s dev %s", family(rt.Prefix), op, rt.Prefix, r.iface)
	switch {
	case rt.Table == 0:
	case rt.Table == r.table:
		s += " table " + r.cfg.Interface.Table
	default:
		s += fmt.Sprintf(" table %d", rt.Table)
	}
	return s
}

func (r *reloader) deleteRoute(rt AppliedRoute) step {
	r.routes = slices.DeleteFunc(r.routes, func(x AppliedRoute) bool { return x == rt })
	r.deleted = append(r.deleted, rt)
	return step{cmds: []string{r.routeCmd("del", rt)}, do: func() ([]action, error) {
		err := r.e.Router.DeleteRoute(r.iface, rt.Prefix, rt.Table)
		if err != nil && notExist(err) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		return []action{{cmd: r.routeCmd("add", rt), fn: func() error { return r.e.Router.AddRoute(r.iface, rt.Prefix, rt.Table) }}}, nil
	}}
}

func (r *reloader) addRoute(rt AppliedRoute) step {
	r.routes = append(r.routes, rt)
	return step{cmds: []string{r.routeCmd("add", rt)}, do: func() ([]action, error) {
		err := r.e.Router.AddRoute(r.iface, rt.Prefix, rt.Table)
		if errors.Is(err, route.ErrExists) {
			return nil, nil // left by an interrupted reload: ours now
		} else if err != nil {
			return nil, err
		}
		return []action{{cmd: r.routeCmd("del", rt), fn: func() error { return r.e.Router.DeleteRoute(r.iface, rt.Prefix, rt.Table) }}}, nil
	}}
}

// removeFirewall deletes every firewall table of the interface (the
// Firewall removes both families at once), with the backend that installed
// them; the families cfg keeps are applied again in phase 6.
func (r *reloader) removeFirewall() step {
	prev := r.fw
	r.fw = map[int]firewall.Rules{}
	var rec Undo
	if i := slices.IndexFunc(r.j.Undo, func(u Undo) bool { return u.Kind == "firewall" }); i >= 0 {
		rec = r.j.Undo[i]
	}
	// Printed as up's rollback prints it.
	return step{cmds: firewall.RemoveCmds(rec.Backend, rec.Families), do: func() ([]action, error) {
		if err := r.e.Firewall.Remove(r.iface, rec.Backend); err != nil {
			return nil, err
		}
		return r.applyFirewalls(prev, rec.Backend), r.dropRecords(func(u Undo) bool { return u.Kind == "firewall" })
	}}
}

// applyFirewalls returns actions installing the given tables with backend.
func (r *reloader) applyFirewalls(fw map[int]firewall.Rules, backend string) []action {
	var acts []action
	for _, f := range []int{6, 4} {
		if rules, ok := fw[f]; ok {
			acts = append(acts, action{cmd: firewall.ApplyCmd(backend, f), fn: func() error { return r.e.Firewall.Apply(rules, backend) }})
		}
	}
	return acts
}

func (r *reloader) firewallRules(fam int, mark uint32, addrs []netip.Prefix) firewall.Rules {
	rules := firewall.Rules{Interface: r.iface, Mark: mark, Family: fam}
	for _, a := range addrs {
		if a.Addr().Is4() == (fam == 4) {
			rules.Addrs = append(rules.Addrs, a.Addr())
		}
	}
	return rules
}

// Phase 3: addresses.

func (r *reloader) addressSteps() ([]step, error) {
	var steps []step
	for _, a := range r.old.Addresses {
		if slices.Contains(r.next.Addresses, a) {
			continue
		}
		cmd := fmt.Sprintf("ip %s address del %s dev %s", family(a), a, r.iface)
		steps = append(steps, step{cmds: []string{cmd}, do: func() ([]action, error) {
			err := r.e.Router.DeleteAddress(r.iface, a)
			if err != nil && notExist(err) {
				return nil, nil
			} else if err != nil {
				return nil, err
			}
			return []action{{cmd: fmt.Sprintf("ip %s address add %s dev %s", family(a), a, r.iface), fn: func() error { return r.e.Router.AddAddress(r.iface, a) }}}, nil
		}})
	}
	for i, a := range r.next.Addresses {
		if slices.Contains(r.old.Addresses, a) {
			continue
		}
		// As written (10.0.0.1, not 10.0.0.1/32), as up prints it.
		text := a.String()
		if i < len(r.cfg.Interface.AddressText) {
			text = r.cfg.Interface.AddressText[i]
		}
		cmd := fmt.Sprintf("ip %s address add %s dev %s", family(a), text, r.iface)
		steps = append(steps, step{cmds: []string{cmd}, do: func() ([]action, error) {
			err := r.e.Router.AddAddress(r.iface, a)
			if errors.Is(err, route.ErrExists) {
				return nil, nil
			} else if err != nil {
				return nil, err
			}
			return []action{{cmd: fmt.Sprintf("ip %s address del %s dev %s", family(a), a, r.iface), fn: func() error { return r.e.Router.DeleteAddress(r.iface, a) }}}, nil
		}})
	}
	return steps, nil
}

// addedRemoved returns the addresses phase 3 adds and removes.
func (r *reloader) addedRemoved() (added, removed []netip.Prefix) {
	for _, a := range r.next.Addresses {
		if !slices.Contains(r.old.Addresses, a) {
			added = append(added, a)
		}
	}
	for _, a := range r.old.Addresses {
		if !slices.Contains(r.next.Addresses, a) {
			removed = append(removed, a)
		}
	}
	return added, removed
}

// Phase 4: the MTU, given or computed again from the endpoints the device
// has after phase 1.

func (r *reloader) mtuSteps() ([]step, error) {
	mtu := r.cfg.Interface.MTU
	if mtu == 0 {
		mtu = r.e.autoMTU(r.deviceAfter())
	}
	cur, err := r.e.Router.LinkMTU(r.iface)
	if err != nil {
		return nil, err
	}
	if cur == mtu {
		return nil, nil
	}
	set := func(m int) func() error { return func() error { return r.e.Router.SetMTUUp(r.iface, m) } }
	return []step{{cmds: []string{fmt.Sprintf("ip link set mtu %d up dev %s", mtu, r.iface)}, do: func() ([]action, error) {
		if err := set(mtu)(); err != nil {
			return nil, err
		}
		return []action{{cmd: fmt.Sprintf("ip link set mtu %d up dev %s", cur, r.iface), fn: set(cur)}}, nil
	}}}, nil
}

// deviceAfter is the device's peers' endpoints after phase 1: the sent
// ones, else the device's own.
func (r *reloader) deviceAfter() *wgtypes.Device {
	d := &wgtypes.Device{}
	for _, w := range r.want {
		p := wgtypes.Peer{PublicKey: w.key}
		if dp := r.devPeer(w.key); dp != nil && !r.sent[w.key] {
			p.Endpoint = dp.Endpoint
		} else if w.endpoint != nil && w.endpoint.Addr.IsValid() {
			p.Endpoint = udpAddr(w.endpoint)
		}
		d.Peers = append(d.Peers, p)
	}
	return d
}

// Phase 5: DNS, unset with the commands recorded when it was set, then set
// anew.

func (r *reloader) dnsSteps() ([]step, error) {
	o, n := r.old, r.next
	if slices.Equal(o.DNS, n.DNS) && (len(n.DNS) == 0 || slices.Equal(o.DNSSearch, n.DNSSearch)) {
		return nil, nil
	}
	var steps []step
	// Reverting must work after an interrupt too: rollback actions run
	// with a context that SIGINT does not cancel.
	undoCtx := context.WithoutCancel(r.ctx)
	run := func(ctx context.Context, ss []dns.Step, out io.Writer) error {
		for _, s := range ss {
			if err := r.e.DNS.Run(ctx, s, out); err != nil {
				return err
			}
		}
		return nil
	}
	for _, u := range r.j.Undo {
		if u.Kind != "dns" {
			continue
		}
		var unset []dns.Step
		var cmds []string
		for _, s := range u.DNSUnset {
			parts := strings.Split(s, "\x00")
			st := dns.Step{}
			st.Cmd.Name, st.Cmd.Args = parts[0], parts[1:]
			unset, cmds = append(unset, st), append(cmds, st.String())
		}
		reset := r.e.DNS.SetSteps(r.iface, o.DNS, o.DNSSearch)
		steps = append(steps, step{cmds: cmds, do: func() ([]action, error) {
			// wg-quick ignores failures here: the record may be gone.
			for _, s := range unset {
				_ = r.e.DNS.Run(r.ctx, s, io.Discard)
			}
			var acts []action
			for _, s := range reset {
				acts = append(acts, action{cmd: s.String(), fn: func() error { return run(undoCtx, []dns.Step{s}, r.e.Stderr) }})
			}
			return acts, r.dropRecords(func(x Undo) bool { return x.Kind == "dns" })
		}})
	}
	set := r.e.DNS.SetSteps(r.iface, n.DNS, n.DNSSearch)
	if len(set) == 0 {
		return steps, nil
	}
	var cmds []string
	for _, s := range set {
		cmds = append(cmds, s.String())
	}
	unset := r.e.DNS.UnsetSteps(r.iface)
	var rec []string
	for _, s := range unset {
		rec = append(rec, s.Cmd.Name+"\x00"+strings.Join(s.Cmd.Args, "\x00"))
	}
	steps = append(steps, step{cmds: cmds, do: func() ([]action, error) {
		if err := r.j.record(Undo{Kind: "dns", DNSUnset: rec}); err != nil {
			return nil, err
		}
		var acts []action
		for _, s := range unset {
			acts = append(acts, action{cmd: s.String(), fn: func() error { _ = r.e.DNS.Run(undoCtx, s, io.Discard); return nil }})
		}
		// What ran of a failing set may have set something: revert it too.
		return acts, run(r.ctx, set, r.e.Stderr)
	}})
	return steps, nil
}

// Phase 6: routes and the full tunnel, as up adds them: longest prefix
// first, the fwmark, rules, firewall and src_valid_mark with each default
// route.

func (r *reloader) routeSteps() ([]step, error) {
	var steps []step
	newFull := fullFamilies(r.next)
	if r.table == -1 && len(newFull) > 0 && !r.markKnown {
		t, err := r.freeTable()
		if err != nil {
			return nil, err
		}
		if uint32(t) != r.mark {
			m, um := t, int(r.mark)
			steps = append(steps, r.configure(fmt.Sprintf("wg set %s fwmark %d", r.iface, t), wgtypes.Config{FirewallMark: &m},
				action{cmd: fmt.Sprintf("wg set %s fwmark %s", r.iface, markText(uint32(um))), fn: r.configureFn(wgtypes.Config{FirewallMark: &um})}))
		}
		r.mark, r.markKnown = uint32(t), true
	}
	var others []netip.Prefix
	if r.table == -1 {
		var err error
		if others, err = r.otherRoutes(); err != nil {
			return nil, err
		}
	}
	var addrs []netip.Prefix // for the firewall, read once
	for _, p := range allowedPrefixes(r.next) {
		switch {
		case r.table > 0:
			if rt := (AppliedRoute{Prefix: p, Table: r.table}); !slices.Contains(r.routes, rt) {
				steps = append(steps, r.addRoute(rt))
			}
		case r.table == 0:
		case p.Bits() == 0:
			fam := 4
			if p.Addr().Is6() {
				fam = 6
			}
			if !r.rules[fam] {
				steps = append(steps, r.addRules(fam)...)
				r.rules[fam] = true
			}
			if rt := (AppliedRoute{Prefix: p, Table: int(r.mark)}); !slices.Contains(r.routes, rt) {
				steps = append(steps, r.addRoute(rt))
			}
			if addrs == nil {
				var err error
				if addrs, err = r.addressesAfter(); err != nil {
					return nil, err
				}
			}
			// As in up, src_valid_mark before the firewall.
			if fam == 4 {
				s, err := r.srcValidMark()
				if err != nil {
					return nil, err
				}
				steps = append(steps, s...)
			}
			if rules := r.firewallRules(fam, r.mark, addrs); !reflect.DeepEqual(r.fw[fam], rules) {
				s, err := r.applyFirewall(rules)
				if err != nil {
					return nil, err
				}
				steps = append(steps, s)
			}
		default:
			rt := AppliedRoute{Prefix: p}
			covered := slices.ContainsFunc(others, func(o netip.Prefix) bool {
				return o.Addr().Is4() == p.Addr().Is4() && o.Bits() <= p.Bits() && o.Masked().Contains(p.Addr())
			})
			owned := slices.Contains(r.routes, rt)
			switch {
			case covered && owned:
				// Up would not have added it: another route covers it
				// now (an address added).
				steps = append(steps, r.deleteRoute(rt))
			case !covered && !owned:
				steps = append(steps, r.addRoute(rt))
			}
		}
	}
	return steps, nil
}

// freeTable finds the first empty table from 51820 as up does; in a dry
// run the tables of the routes phase 2 would have deleted count as empty.
func (r *reloader) freeTable() (int, error) {
	for t := 51820; ; t++ {
		empty, err := r.e.Router.TableEmpty(t)
		if err != nil {
			return 0, err
		}
		if !empty && r.dry {
			empty = slices.ContainsFunc(r.deleted, func(rt AppliedRoute) bool { return rt.Table == t })
		}
		if empty {
			return t, nil
		}
	}
}

// otherRoutes are the main-table routes through the link that reload does
// not own (the kernel's for the addresses, an administrator's): like the
// routes up finds with `ip route show dev IF match P`, they make an allowed
// IP's own route unnecessary. A dry run predicts phase 2 and 3's effect.
func (r *reloader) otherRoutes() ([]netip.Prefix, error) {
	live, err := r.e.Router.LinkRoutes(r.iface)
	if err != nil {
		return nil, err
	}
	drop := func(p netip.Prefix) {
		if i := slices.Index(live, p); i >= 0 {
			live = slices.Delete(live, i, i+1)
		}
	}
	for _, rt := range r.routes {
		if rt.Table == 0 {
			drop(rt.Prefix)
		}
	}
	if r.dry {
		for _, rt := range r.deleted {
			if rt.Table == 0 {
				drop(rt.Prefix)
			}
		}
		added, removed := r.addedRemoved()
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
func (r *reloader) addressesAfter() ([]netip.Prefix, error) {
	if !r.dry {
		return r.e.Router.Addresses(r.iface)
	}
	added, removed := r.addedRemoved()
	out := slices.DeleteFunc(slices.Clone(r.addrs), func(a netip.Prefix) bool { return slices.Contains(removed, a) })
	return append(out, added...), nil
}

// addRules adds a full tunnel's two policy rules for a family, as up does.
func (r *reloader) addRules(fam int) []step {
	mark := r.mark
	add := func(cmd string, rule route.Rule) step {
		return step{cmds: []string{cmd}, do: func() ([]action, error) {
			if err := r.e.addRule(rule, r.j); err != nil {
				return nil, err
			}
			u := r.j.Undo[len(r.j.Undo)-1]
			return []action{{cmd: ruleCmd("delete", u), fn: func() error { return r.e.Router.DeleteRule(ruleOf(u)) }}}, nil
		}}
	}
	f := famFlag(fam)
	return []step{
		add(fmt.Sprintf("ip %s rule add not fwmark %d table %d", f, mark, mark), route.Rule{Family: fam, Table: int(mark), Mark: mark, Invert: true, SuppressPrefixlen: -1}),
		add(fmt.Sprintf("ip %s rule add table main suppress_prefixlength 0", f), route.Rule{Family: fam, Table: 254, SuppressPrefixlen: 0}),
	}
}

// applyFirewall installs (or replaces) one family's firewall table.
func (r *reloader) applyFirewall(rules firewall.Rules) (step, error) {
	backend, err := r.e.firewallBackend(r.j)
	if err != nil {
		return step{}, err
	}
	prev := r.fw
	r.fw = make(map[int]firewall.Rules, len(prev)+1)
	for f, x := range prev {
		r.fw[f] = x
	}
	r.fw[rules.Family] = rules
	cmd := firewall.ApplyCmd(backend, rules.Family)
	return step{cmds: []string{cmd}, do: func() ([]action, error) {
		if i := slices.IndexFunc(r.j.Undo, func(u Undo) bool { return u.Kind == "firewall" }); i < 0 {
			if err := r.j.record(Undo{Kind: "firewall", Backend: backend, Families: []int{rules.Family}}); err != nil {
				return nil, err
			}
		} else if !slices.Contains(r.j.Undo[i].Families, rules.Family) {
			r.j.Undo[i].Families = append(r.j.Undo[i].Families, rules.Family)
			if err := r.j.save(); err != nil {
				return nil, err
			}
		}
		if err := r.e.Firewall.Apply(rules, backend); err != nil {
			return nil, err
		}
		if old, ok := prev[rules.Family]; ok {
			return []action{{cmd: cmd, fn: func() error { return r.e.Firewall.Apply(old, backend) }}}, nil
		}
		// The Firewall removes both families at once: remove, then put
		// back the other.
		undo := []action{{cmd: firewall.RemoveCmds(backend, []int{rules.Family})[0], fn: func() error { return r.e.Firewall.Remove(r.iface, backend) }}}
		return append(undo, r.applyFirewalls(prev, backend)...), nil
	}}, nil
}

// srcValidMark sets net.ipv4.conf.all.src_valid_mark as up does.
func (r *reloader) srcValidMark() ([]step, error) {
	const key = "net.ipv4.conf.all.src_valid_mark"
	old, err := r.e.Router.ReadSysctl(key)
	if err != nil {
		return nil, err
	}
	old = strings.TrimSpace(old)
	if old == "1" {
		return nil, nil
	}
	return []step{{cmds: []string{fmt.Sprintf("sysctl -q %s=1", key)}, do: func() ([]action, error) {
		if err := r.j.record(Undo{Kind: "sysctl", Key: key, Old: old}); err != nil {
			return nil, err
		}
		if err := r.e.Router.WriteSysctl(key, "1"); err != nil {
			return nil, err
		}
		return []action{{cmd: fmt.Sprintf("sysctl -q %s=%s", key, old), fn: func() error { return r.e.Router.WriteSysctl(key, old) }}}, nil
	}}}, nil
}

// The configuration model.

// wantPeer is one peer of a configuration, merged over its sections as
// the device merges them, with what reload sends.
type wantPeer struct {
	key       wgtypes.Key
	psk       wgtypes.Key // zero: none
	endpoint  *config.Endpoint
	keepalive int
	allowed   []netip.Prefix // masked, in the order given
	line      int            // of the section giving the endpoint
}

// mergePeers applies a configuration's [Peer] sections in order, as the
// device applies `wg addconf` to an empty device: sections of one key
// merge, a section's AllowedIPs replace the earlier ones (unless written
// with +), and a prefix moves to the last peer given it.
func mergePeers(cfg *config.Config) ([]*wantPeer, error) {
	var peers []*wantPeer
	byKey := map[wgtypes.Key]*wantPeer{}
	owner := map[netip.Prefix]*wantPeer{}
	for i := range cfg.Peers {
		p := &cfg.Peers[i]
		w := byKey[p.PublicKey]
		if p.Remove {
			if w != nil {
				for _, a := range w.allowed {
					delete(owner, a)
				}
				delete(byKey, p.PublicKey)
				peers = slices.DeleteFunc(peers, func(x *wantPeer) bool { return x == w })
			}
			continue
		}
		if w == nil {
			w = &wantPeer{key: p.PublicKey, line: p.Line}
			byKey[p.PublicKey] = w
			peers = append(peers, w)
		}
		if p.PresharedKey != nil {
			w.psk = *p.PresharedKey
		}
		if p.Endpoint != nil {
			w.endpoint, w.line = p.Endpoint, p.Line
		}
		if p.PersistentKeepalive != nil {
			w.keepalive = *p.PersistentKeepalive
		}
		if p.ReplaceAllowedIPs {
			for _, a := range w.allowed {
				delete(owner, a)
			}
			w.allowed = nil
		}
		for _, a := range p.AllowedIPs {
			if a.Remove {
				return nil, device.ErrRemoveAllowedIP
			}
			m := a.Prefix.Masked()
			switch o := owner[m]; o {
			case w:
				continue
			case nil:
			default:
				o.allowed = slices.DeleteFunc(o.allowed, func(x netip.Prefix) bool { return x == m })
			}
			owner[m] = w
			w.allowed = append(w.allowed, m)
		}
	}
	return peers, nil
}

// newApplied describes cfg as it is applied.
func newApplied(cfg *config.Config, peers []*wantPeer) *Applied {
	ifc := &cfg.Interface
	a := &Applied{
		Addresses: slices.Clone(ifc.Addresses),
		DNS:       slices.Clone(ifc.DNS),
		DNSSearch: slices.Clone(ifc.DNSSearch),
		MTU:       ifc.MTU,
		Table:     ifc.Table,
	}
	if k := ifc.PrivateKey; k != nil && *k != (wgtypes.Key{}) {
		a.PublicKey = keys.Public(*k).String()
	}
	if p := ifc.ListenPort; p != nil {
		v := *p
		a.ListenPort = &v
	}
	if m := ifc.FwMark; m != nil {
		v := *m
		a.FwMark, a.Mark = &v, v // up's routes may find a mark instead
	}
	for _, w := range peers {
		a.Peers = append(a.Peers, w.applied())
	}
	return a
}

func (w *wantPeer) applied() AppliedPeer {
	return AppliedPeer{
		PublicKey:  w.key.String(),
		PSK:        fingerprint(w.psk),
		Endpoint:   endpointText(w.endpoint),
		Keepalive:  w.keepalive,
		AllowedIPs: slices.Clone(w.allowed),
	}
}

// fingerprint stands for a preshared key in the journal; "" is none.
func fingerprint(k wgtypes.Key) string {
	if k == (wgtypes.Key{}) {
		return ""
	}
	sum := sha256.Sum256(k[:])
	return hex.EncodeToString(sum[:])
}

// endpointText is an endpoint as written: an address (in canonical form)
// or a host name, and the port.
func endpointText(e *config.Endpoint) string {
	if e == nil {
		return ""
	}
	if isName(e) {
		return net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
	}
	return netip.AddrPortFrom(e.Addr, e.Port).String()
}

// isName reports whether an endpoint's host is a name to resolve.
func isName(e *config.Endpoint) bool {
	_, err := netip.ParseAddr(e.Host)
	return err != nil
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

// allowedPrefixes are a configuration's allowed IPs in up's route order.
func allowedPrefixes(a *Applied) []netip.Prefix {
	var ps []netip.Prefix
	for _, p := range a.Peers {
		for _, pfx := range p.AllowedIPs {
			if !slices.Contains(ps, pfx) {
				ps = append(ps, pfx)
			}
		}
	}
	sortRoutes(ps)
	return ps
}

func samePrefixes(a, b []netip.Prefix) bool {
	if len(a) != len(b) {
		return false
	}
	for _, p := range a {
		if !slices.Contains(b, p) {
			return false
		}
	}
	return true
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Conversions for the device and the printed commands.

func fullPeerConfig(p *wgtypes.Peer) wgtypes.PeerConfig {
	psk, ka := p.PresharedKey, p.PersistentKeepaliveInterval
	return wgtypes.PeerConfig{
		PublicKey:                   p.PublicKey,
		PresharedKey:                &psk,
		Endpoint:                    p.Endpoint,
		PersistentKeepaliveInterval: &ka,
		ReplaceAllowedIPs:           true,
		AllowedIPs:                  p.AllowedIPs,
	}
}

func ipNets(ps []netip.Prefix) []net.IPNet {
	out := make([]net.IPNet, 0, len(ps))
	for _, p := range ps {
		out = append(out, device.IPNet(p))
	}
	return out
}

func udpAddr(e *config.Endpoint) *net.UDPAddr {
	ap, _ := e.AddrPort()
	return &net.UDPAddr{IP: ap.Addr().AsSlice(), Port: int(ap.Port()), Zone: ap.Addr().Zone()}
}

func udpText(u *net.UDPAddr) string {
	a, _ := netip.AddrFromSlice(u.IP)
	return netip.AddrPortFrom(a.Unmap().WithZone(u.Zone), uint16(u.Port)).String()
}

// keyFile is how a wg set line names a key: read from a pipe, or
// /dev/null for none.
func keyFile(k wgtypes.Key) string {
	if k == (wgtypes.Key{}) {
		return "/dev/null"
	}
	return "/dev/fd/63"
}

func markText(m uint32) string {
	if m == 0 {
		return "off"
	}
	return strconv.FormatUint(uint64(m), 10)
}

func famFlag(fam int) string {
	if fam == 6 {
		return "-6"
	}
	return "-4"
}
