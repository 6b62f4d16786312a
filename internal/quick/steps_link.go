package quick

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/wgtools/wgtools/internal/route"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Phase 0, up only: the link, made by the kernel's WireGuard, else (no
// module) by a userspace device.

func (t *txn) linkSteps() ([]step, error) {
	return []step{{cmds: []string{"ip link add dev " + t.iface + " type wireguard"}, do: t.addLink}}, nil
}

// addLink creates the link, recording it first (write-ahead, as every
// change): a process killed right after the link appeared leaves a journal
// that says so, from which the next down or up removes it. Deleting a link
// that was never made is not an error.
func (t *txn) addLink() ([]action, error) {
	e := t.e
	if err := t.j.record(Undo{Kind: UndoLink}); err != nil {
		return nil, err
	}
	del := action{cmd: "ip link delete dev " + t.iface, fn: func() error {
		if err := e.Links.DeleteLink(t.iface); err != nil && !notExist(err) {
			return err
		}
		return nil
	}}
	err := e.Links.AddWireGuardLink(t.iface)
	if err == nil {
		t.madeLink = true
		return []action{del}, nil
	}
	if !errors.Is(err, route.ErrLinkTypeUnsupported) || (e.KernelModule != nil && e.KernelModule()) || e.Userspace == nil {
		// Not ours to delete (it may have been made meanwhile by someone
		// else, EEXIST); run forgets the record.
		return nil, err
	}
	e.logf("[!] Missing WireGuard kernel module. Falling back to slow userspace implementation.")
	t.j.Undo[len(t.j.Undo)-1].Userspace = true
	if err := t.j.save(); err != nil {
		return nil, err
	}
	e.cmdf("%s", e.Userspace.Label(t.iface))
	t.madeLink = true
	return []action{del}, e.Userspace.Start(t.ctx, t.iface)
}

// Phase 3: addresses.

func (t *txn) addressSteps() ([]step, error) {
	var steps []step
	for _, a := range t.old.Addresses {
		if slices.Contains(t.next.Addresses, a) {
			continue
		}
		cmd := fmt.Sprintf("ip %s address del %s dev %s", family(a), a, t.iface)
		steps = append(steps, step{cmds: []string{cmd}, do: func() ([]action, error) {
			err := t.e.Links.DeleteAddress(t.iface, a)
			if err != nil && notExist(err) {
				return nil, nil
			} else if err != nil {
				return nil, err
			}
			return []action{t.linkAction(fmt.Sprintf("ip %s address add %s dev %s", family(a), a, t.iface), func() error { return t.e.Links.AddAddress(t.iface, a) })}, nil
		}})
	}
	for i, a := range t.next.Addresses {
		if slices.Contains(t.old.Addresses, a) {
			continue
		}
		// As written (10.0.0.1, not 10.0.0.1/32), as up prints it.
		text := a.String()
		if i < len(t.cfg.Interface.AddressText) {
			text = t.cfg.Interface.AddressText[i]
		}
		cmd := fmt.Sprintf("ip %s address add %s dev %s", family(a), text, t.iface)
		steps = append(steps, step{cmds: []string{cmd}, do: func() ([]action, error) {
			err := t.e.Links.AddAddress(t.iface, a)
			if errors.Is(err, route.ErrExists) && !t.fresh {
				return nil, nil // left by an interrupted reload
			} else if err != nil {
				return nil, err
			}
			return []action{t.linkAction(fmt.Sprintf("ip %s address del %s dev %s", family(a), a, t.iface), func() error { return t.e.Links.DeleteAddress(t.iface, a) })}, nil
		}})
	}
	return steps, nil
}

// addedRemoved returns the addresses phase 3 adds and removes.
func (t *txn) addedRemoved() (added, removed []netip.Prefix) {
	for _, a := range t.next.Addresses {
		if !slices.Contains(t.old.Addresses, a) {
			added = append(added, a)
		}
	}
	for _, a := range t.old.Addresses {
		if !slices.Contains(t.next.Addresses, a) {
			removed = append(removed, a)
		}
	}
	return added, removed
}

// Phase 4: the MTU, given or computed (again) from the endpoints the device
// has after phase 1; a new link is brought up with it.

func (t *txn) mtuSteps() ([]step, error) {
	mtu := t.cfg.Interface.MTU
	if mtu == 0 {
		mtu = t.e.autoMTU(t.deviceAfter())
	}
	cmd := fmt.Sprintf("ip link set mtu %d up dev %s", mtu, t.iface)
	if t.fresh {
		// Reverted by deleting the link.
		return []step{{cmds: []string{cmd}, do: func() ([]action, error) { return nil, t.e.Links.SetMTUUp(t.iface, mtu) }}}, nil
	}
	cur, err := t.e.Links.LinkMTU(t.iface)
	if err != nil {
		return nil, err
	}
	if cur == mtu {
		return nil, nil
	}
	set := func(m int) func() error { return func() error { return t.e.Links.SetMTUUp(t.iface, m) } }
	return []step{{cmds: []string{cmd}, do: func() ([]action, error) {
		if err := set(mtu)(); err != nil {
			return nil, err
		}
		return []action{t.linkAction(fmt.Sprintf("ip link set mtu %d up dev %s", cur, t.iface), set(cur))}, nil
	}}}, nil
}

// autoMTU is wg-quick's MTU for a device without MTU=: the smallest MTU of
// the routes to its peers' endpoints, else of the default route, else 1500,
// minus 80 for WireGuard's overhead.
func (e *Env) autoMTU(d *wgtypes.Device) int {
	best := 0
	for _, p := range d.Peers {
		if p.Endpoint == nil || p.Endpoint.Zone != "" {
			continue
		}
		a, ok := netip.AddrFromSlice(p.Endpoint.IP)
		if !ok {
			continue
		}
		if m, ok, err := e.Routes.RouteMTU(a.Unmap()); err == nil && ok && (best == 0 || m < best) {
			best = m
		}
	}
	if best == 0 {
		if m, ok, err := e.Routes.DefaultRouteMTU(); err == nil && ok {
			best = m
		}
	}
	if best == 0 {
		best = 1500
	}
	return best - 80
}

// deviceAfter is the device's peers' endpoints after phase 1: the sent
// ones, else the device's own.
func (t *txn) deviceAfter() *wgtypes.Device {
	d := &wgtypes.Device{}
	for _, w := range t.want {
		p := wgtypes.Peer{PublicKey: w.Key}
		if dp := t.devPeer(w.Key); dp != nil && !t.sent[w.Key] {
			p.Endpoint = dp.Endpoint
		} else if w.Endpoint != nil && w.Endpoint.Addr.IsValid() {
			p.Endpoint = udpAddr(w.Endpoint)
		}
		d.Peers = append(d.Peers, p)
	}
	return d
}
