package config

import (
	"errors"
	"net/netip"
	"slices"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// MergedPeer is one peer as a device holds it once every [Peer] section
// of its key has been applied in file order.
type MergedPeer struct {
	Key       wgtypes.Key
	PSK       wgtypes.Key // zero: none
	Endpoint  *Endpoint
	Keepalive int
	// AllowedIPs are masked, in the order given.
	AllowedIPs []netip.Prefix
	// Line is the line of the section that gave the endpoint, else of the
	// key's first section.
	Line int
}

// ErrRemoveInFile is MergePeers' error for the upstream `-ADDR` entry of
// an AllowedIPs list, which means nothing to an empty device.
var ErrRemoveInFile = errors.New("an AllowedIPs entry removes an address")

// MergePeers applies a configuration's [Peer] sections in order, as a
// device applies `wg addconf` to an empty device: sections of one key
// merge, a section's AllowedIPs replace the earlier ones (unless written
// with +), and a prefix moves to the last peer given it. wg-quick's reload
// compares a file with the interface this way, and save compares the
// interface with a file.
func MergePeers(cfg *Config) ([]*MergedPeer, error) {
	var peers []*MergedPeer
	byKey := map[wgtypes.Key]*MergedPeer{}
	owner := map[netip.Prefix]*MergedPeer{}
	for i := range cfg.Peers {
		p := &cfg.Peers[i]
		w := byKey[p.PublicKey]
		if p.Remove {
			if w != nil {
				for _, a := range w.AllowedIPs {
					delete(owner, a)
				}
				delete(byKey, p.PublicKey)
				peers = slices.DeleteFunc(peers, func(x *MergedPeer) bool { return x == w })
			}
			continue
		}
		if w == nil {
			w = &MergedPeer{Key: p.PublicKey, Line: p.Line}
			byKey[p.PublicKey] = w
			peers = append(peers, w)
		}
		if p.PresharedKey != nil {
			w.PSK = *p.PresharedKey
		}
		if p.Endpoint != nil {
			w.Endpoint, w.Line = p.Endpoint, p.Line
		}
		if p.PersistentKeepalive != nil {
			w.Keepalive = *p.PersistentKeepalive
		}
		if p.ReplaceAllowedIPs {
			for _, a := range w.AllowedIPs {
				delete(owner, a)
			}
			w.AllowedIPs = nil
		}
		for _, a := range p.AllowedIPs {
			if a.Remove {
				return nil, ErrRemoveInFile
			}
			m := a.Prefix.Masked()
			switch o := owner[m]; o {
			case w:
				continue
			case nil:
			default:
				o.AllowedIPs = slices.DeleteFunc(o.AllowedIPs, func(x netip.Prefix) bool { return x == m })
			}
			owner[m] = w
			w.AllowedIPs = append(w.AllowedIPs, m)
		}
	}
	return peers, nil
}
