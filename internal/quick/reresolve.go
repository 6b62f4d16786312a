package quick

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
)

// StaleHandshake is how old a peer's latest handshake must be before
// Reresolve looks its endpoint's host name up again: 135 seconds, as in
// wireguard-tools' contrib/reresolve-dns. A working session hands shakes at
// least every two minutes (REKEY_AFTER_TIME) while it carries traffic, and a
// persistent keepalive keeps it carrying some.
const StaleHandshake = 135 * time.Second

// Reresolve re-resolves the endpoint host names of a running interface's
// peers, for peers whose endpoint in cfg is a host name (IP literals are
// left alone) and whose latest handshake is older than StaleHandshake, or
// which never completed one. A peer whose name now resolves to another
// address than the device's current endpoint gets just that endpoint
// (`[#] wg set IF peer KEY endpoint ADDR:PORT`), so a peer that moved to a
// new address (dynamic DNS) is found again. Peers of cfg the device lacks
// are skipped, and nothing is ever created (update_only).
//
// Resolution uses Up's resolver and retry budget. A name that fails does
// not stop the others; the failures are returned joined. The names are
// looked up without the interface's lock (with retries, one that does not
// resolve takes over a minute); the lock is taken only to set the new
// endpoints, against the device as it is then. It does not need the
// journal: any WireGuard interface can be reresolved.
func (e *Env) Reresolve(ctx context.Context, iface string, cfg *config.Config) error {
	if err := e.requireWireGuard(iface); err != nil {
		return err
	}
	d, err := e.Device.Get(iface)
	if err != nil {
		return fmt.Errorf("reading %s: %w", iface, device.Wrap(err))
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	t := now()

	live := peersByKey(d)
	type found struct {
		key wgtypes.Key
		ep  *net.UDPAddr
	}
	var todo []found
	var errs []error
	for _, p := range endpointsByPeer(cfg) {
		dp := live[p.PublicKey]
		if p.Endpoint == nil || !isName(p.Endpoint) || dp == nil {
			continue
		}
		// A zero time (never) is long ago.
		if t.Sub(dp.LastHandshakeTime) <= StaleHandshake {
			continue
		}
		ep := *p.Endpoint
		ep.Addr = netip.Addr{}
		c := &config.Config{Peers: []config.Peer{{PublicKey: p.PublicKey, Endpoint: &ep, Line: p.Line}}}
		if err := config.ResolveEndpoints(ctx, c, e.Resolver, config.Retry{Retries: e.Retries, Logf: e.logf}); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				return errors.Join(errs...)
			}
			continue
		}
		todo = append(todo, found{p.PublicKey, udpAddr(&ep)})
	}
	if len(todo) == 0 {
		return errors.Join(errs...)
	}

	unlock, err := e.lockExisting(ctx, iface)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	defer unlock()
	if d, err = e.Device.Get(iface); err != nil {
		return errors.Join(append(errs, fmt.Errorf("reading %s: %w", iface, device.Wrap(err)))...)
	}
	live = peersByKey(d)
	for _, f := range todo {
		dp := live[f.key]
		if dp == nil || (dp.Endpoint != nil && udpText(dp.Endpoint) == udpText(f.ep)) {
			continue // removed meanwhile, or already there
		}
		e.cmdf("wg set %s peer %s endpoint %s", iface, f.key, udpText(f.ep))
		pc := wgtypes.PeerConfig{PublicKey: f.key, UpdateOnly: true, Endpoint: f.ep}
		if err := e.Device.Configure(iface, wgtypes.Config{Peers: []wgtypes.PeerConfig{pc}}); err != nil {
			errs = append(errs, fmt.Errorf("configuring %s: %w", iface, device.Wrap(err)))
		}
	}
	return errors.Join(errs...)
}

// peersByKey indexes a device's peers.
func peersByKey(d *wgtypes.Device) map[wgtypes.Key]*wgtypes.Peer {
	live := make(map[wgtypes.Key]*wgtypes.Peer, len(d.Peers))
	for i := range d.Peers {
		live[d.Peers[i].PublicKey] = &d.Peers[i]
	}
	return live
}

// endpointsByPeer returns, per key in order of first appearance, the
// endpoint the device would hold after cfg: the last section's that gives
// one. Peers removed by a later section are left out.
func endpointsByPeer(cfg *config.Config) []config.Peer {
	var out []config.Peer
	index := map[wgtypes.Key]int{}
	for _, p := range cfg.Peers {
		i, ok := index[p.PublicKey]
		switch {
		case p.Remove:
			if ok {
				out[i].Remove = true
				delete(index, p.PublicKey)
			}
		case !ok:
			index[p.PublicKey] = len(out)
			out = append(out, config.Peer{PublicKey: p.PublicKey, Endpoint: p.Endpoint, Line: p.Line})
		case p.Endpoint != nil:
			out[i].Endpoint, out[i].Line = p.Endpoint, p.Line
		}
	}
	return slices.DeleteFunc(out, func(p config.Peer) bool { return p.Remove })
}
