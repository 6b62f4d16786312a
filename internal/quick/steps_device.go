package quick

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// plannedMark is the fwmark cfg gives the device, as up would: FwMark,
// else (known false) a table a full tunnel must search for, except that a
// full tunnel keeping the table it found keeps it; else none.
func (t *txn) plannedMark() (mark uint32, known bool) {
	if m := t.cfg.Interface.FwMark; m != nil && *m != 0 {
		return *m, true
	}
	if len(fullFamilies(t.next)) == 0 {
		return 0, true
	}
	if m := t.old.FwMark; (m == nil || *m == 0) && len(fullFamilies(t.old)) > 0 && t.old.Mark != 0 {
		return t.old.Mark, true
	}
	return 0, false
}

// Phase 1: the device.

func (t *txn) deviceSteps() ([]step, error) {
	if t.fresh {
		return t.addconf(), nil
	}
	var steps []step
	old, next, d := t.old, t.next, t.dev

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
	mark, known := t.plannedMark()
	if known && mark != old.Mark {
		m, um := int(mark), d.FirewallMark
		c.FirewallMark, undo.FirewallMark = &m, &um
		parts = append(parts, "fwmark "+markText(uint32(m)))
		undoParts = append(undoParts, "fwmark "+markText(uint32(um)))
		t.mark = mark
	}
	t.markKnown = known
	if next.PublicKey != old.PublicKey {
		var k wgtypes.Key
		if pk := t.cfg.Interface.PrivateKey; pk != nil {
			k = *pk
		}
		uk := d.PrivateKey
		c.PrivateKey, undo.PrivateKey = &k, &uk
		parts = append(parts, "private-key "+keyFile(k))
		undoParts = append(undoParts, "private-key "+keyFile(uk))
	}
	if len(parts) > 0 {
		steps = append(steps, t.configure("wg set "+t.iface+" "+strings.Join(parts, " "), c,
			action{cmd: "wg set " + t.iface + " " + strings.Join(undoParts, " "), fn: t.configureFn(undo)}))
	}

	// Peers: removals first, then additions and changes in file order.
	oldBy := t.oldPeers()
	wantBy := make(map[string]*wantPeer, len(t.want))
	owner := make(map[netip.Prefix]wgtypes.Key) // in cfg
	for _, w := range t.want {
		wantBy[w.Key.String()] = w
		for _, p := range w.AllowedIPs {
			owner[p] = w.Key
		}
	}
	for _, op := range old.Peers {
		if wantBy[op.PublicKey] != nil {
			continue
		}
		k, err := wgtypes.ParseKey(op.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("reading state %s: peer %q: %w", t.j.path, op.PublicKey, err)
		}
		steps = append(steps, t.removePeer(k))
	}
	for _, w := range t.want {
		op := oldBy[w.Key.String()]
		switch {
		case op == nil:
			steps = append(steps, t.addPeer(w, true))
		case op.Endpoint != "" && w.Endpoint == nil:
			// The UAPI cannot take an endpoint away; a new peer has none.
			steps = append(steps, t.removePeer(w.Key), t.addPeer(w, false))
		default:
			if s, ok := t.changePeer(op, w, owner); ok {
				steps = append(steps, s)
			}
		}
	}
	return steps, nil
}

// addconf gives a new device cfg whole in one request, as up's `wg
// addconf` does, printing wg's warnings about the file as wg would.
func (t *txn) addconf() []step {
	mark, known := t.plannedMark()
	if known {
		t.mark = mark
	}
	t.markKnown = known
	for _, w := range t.want {
		t.sent[w.Key] = true
	}
	return []step{{cmds: []string{"wg addconf " + t.iface + " /dev/fd/63"}, do: func() ([]action, error) {
		for _, w := range t.e.ConfigWarnings {
			t.e.logf("%s", w)
		}
		// Reverted by deleting the link.
		return nil, t.configureFn(t.wc)()
	}}}
}

// configure is a step sending c, reverted by undo.
func (t *txn) configure(cmd string, c wgtypes.Config, undo ...action) step {
	return step{cmds: []string{cmd}, do: func() ([]action, error) {
		if err := t.configureFn(c)(); err != nil {
			return nil, err
		}
		return undo, nil
	}}
}

func (t *txn) configureFn(c wgtypes.Config) func() error {
	return func() error {
		if err := t.e.Device.Configure(t.iface, c); err != nil {
			return fmt.Errorf("configuring %s: %w", t.iface, device.Wrap(err))
		}
		return nil
	}
}

// peerAction sends one peer's configuration, printed as wg set.
func (t *txn) peerAction(pc wgtypes.PeerConfig) action {
	return action{cmd: t.peerCmd(pc), fn: t.configureFn(wgtypes.Config{Peers: []wgtypes.PeerConfig{pc}})}
}

func (t *txn) devPeer(k wgtypes.Key) *wgtypes.Peer {
	if t.devPeers == nil {
		t.devPeers = make(map[wgtypes.Key]*wgtypes.Peer, len(t.dev.Peers))
		for i := range t.dev.Peers {
			t.devPeers[t.dev.Peers[i].PublicKey] = &t.dev.Peers[i]
		}
	}
	return t.devPeers[k]
}

// restorePeer returns the actions that give peer k its state from before
// reload, taking its allowed IPs back from whoever holds them; gave lists
// the prefixes the step being reverted gave k, which go back to the peers
// that held them (if those exist at that point).
func (t *txn) restorePeer(k wgtypes.Key, gave []netip.Prefix) []action {
	acts := []action{t.peerAction(wgtypes.PeerConfig{PublicKey: k, Remove: true})}
	if dp := t.devPeer(k); dp != nil {
		acts = append(acts, t.peerAction(fullPeerConfig(dp)))
	}
	return append(acts, t.giveBack(k, gave)...)
}

// giveBack returns the actions that return prefixes a step gave peer k to
// the peers that held them before reload. update_only keeps a peer removed
// by an earlier step from being created: reverting that step restores its
// whole state anyway.
func (t *txn) giveBack(k wgtypes.Key, gave []netip.Prefix) []action {
	var acts []action
	for _, dp := range t.dev.Peers {
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
			acts = append(acts, t.peerAction(wgtypes.PeerConfig{PublicKey: dp.PublicKey, UpdateOnly: true, AllowedIPs: back}))
		}
	}
	return acts
}

func (t *txn) removePeer(k wgtypes.Key) step {
	pc := wgtypes.PeerConfig{PublicKey: k, Remove: true}
	var undo []action
	if dp := t.devPeer(k); dp != nil {
		undo = append(undo, t.peerAction(fullPeerConfig(dp)))
	}
	return t.configure(t.peerCmd(pc), wgtypes.Config{Peers: []wgtypes.PeerConfig{pc}}, undo...)
}

// addPeer adds a peer, reverted by removing it and, if restore, giving it
// back its state from before reload if it had one (a removal it follows
// otherwise does that).
func (t *txn) addPeer(w *wantPeer, restore bool) step {
	pc := wgtypes.PeerConfig{PublicKey: w.Key, ReplaceAllowedIPs: true, AllowedIPs: ipNets(w.AllowedIPs)}
	if w.PSK != (wgtypes.Key{}) {
		k := w.PSK
		pc.PresharedKey = &k
	}
	if w.Endpoint != nil {
		pc.Endpoint = udpAddr(w.Endpoint)
	}
	t.sent[w.Key] = true // its endpoint is the one sent, or none
	if w.Keepalive != 0 {
		d := time.Duration(w.Keepalive) * time.Second
		pc.PersistentKeepaliveInterval = &d
	}
	undo := append([]action{t.peerAction(wgtypes.PeerConfig{PublicKey: w.Key, Remove: true})}, t.giveBack(w.Key, w.AllowedIPs)...)
	if restore {
		undo = t.restorePeer(w.Key, w.AllowedIPs)
	}
	return t.configure(t.peerCmd(pc), wgtypes.Config{Peers: []wgtypes.PeerConfig{pc}}, undo...)
}

// changePeer sends what changed of a peer, and is reverted by sending the
// device's values from before. An allowed-IPs list that only lost prefixes
// other peers of cfg now hold is not sent: the device moves a prefix to
// the peer given it last, so sending those peers is enough.
func (t *txn) changePeer(op *AppliedPeer, w *wantPeer, owner map[netip.Prefix]wgtypes.Key) (step, bool) {
	nw := appliedPeer(w)
	pc := wgtypes.PeerConfig{PublicKey: w.Key}
	undo := wgtypes.PeerConfig{PublicKey: w.Key}
	dp := t.devPeer(w.Key)
	if dp == nil {
		dp = &wgtypes.Peer{PublicKey: w.Key}
	}
	recreate := false // reverting needs the peer removed and added again
	if nw.PSK != op.PSK {
		k, uk := w.PSK, dp.PresharedKey
		pc.PresharedKey, undo.PresharedKey = &k, &uk
	}
	if nw.Endpoint != op.Endpoint {
		pc.Endpoint = udpAddr(w.Endpoint)
		t.sent[w.Key] = true
		undo.Endpoint = dp.Endpoint
		recreate = dp.Endpoint == nil
	}
	if nw.Keepalive != op.Keepalive {
		d, ud := time.Duration(w.Keepalive)*time.Second, dp.PersistentKeepaliveInterval
		pc.PersistentKeepaliveInterval, undo.PersistentKeepaliveInterval = &d, &ud
	}
	var gave []netip.Prefix
	if !samePrefixes(nw.AllowedIPs, op.AllowedIPs) && !lostToOthers(op.AllowedIPs, nw.AllowedIPs, w.Key, owner) {
		pc.ReplaceAllowedIPs, pc.AllowedIPs = true, ipNets(w.AllowedIPs)
		undo.ReplaceAllowedIPs, undo.AllowedIPs = true, dp.AllowedIPs
		gave = w.AllowedIPs
	}
	if pc.PresharedKey == nil && pc.Endpoint == nil && pc.PersistentKeepaliveInterval == nil && !pc.ReplaceAllowedIPs {
		return step{}, false
	}
	var acts []action
	if recreate || t.devPeer(w.Key) == nil {
		acts = t.restorePeer(w.Key, gave)
	} else {
		acts = append([]action{t.peerAction(undo)}, t.giveBack(w.Key, gave)...)
	}
	return t.configure(t.peerCmd(pc), wgtypes.Config{Peers: []wgtypes.PeerConfig{pc}}, acts...), true
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
func (t *txn) peerCmd(pc wgtypes.PeerConfig) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wg set %s peer %s", t.iface, pc.PublicKey)
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
