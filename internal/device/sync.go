package device

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
)

// SyncConfig builds wg syncconf's request: like Replace for a file without
// peers or a device without peers; otherwise the interface fields are reset
// as by setconf, every device peer missing from the file is removed, and
// (upstream since v1.0.20260223) a peer that keeps its key but lost its
// PresharedKey or PersistentKeepalive in the file has them cleared.
//
// wg sends every peer of the file and relies on the device treating
// unchanged values as no-ops. Only the peers that change are sent here, so
// that a syncconf changing one peer of 10,000 costs the device one peer's
// work (README, Speed). A peer is sent when it is new, or when its
// preshared key, keepalive, list of allowed IPs (host bits masked, in the
// order the device would hold them) or, where the file gives one, endpoint
// differ from the device's (so an endpoint the peer roamed to is set back,
// as wg does). The device ends in the state wg leaves it in:
//   - a prefix given to two peers ends on the last one, as when every peer
//     is sent in order: an earlier peer that is sent would take it, so the
//     last one is sent after it;
//   - where sections can only be applied in full (a key given in two
//     sections, an incremental +/- list), every peer is sent, as wg sends
//     them.
func SyncConfig(c *config.Config, current *wgtypes.Device) (wgtypes.Config, error) {
	return syncConfig(c, current, false)
}

// syncConfig is SyncConfig; with all set, it sends every peer of the file
// as wg does (the tests compare the two).
func syncConfig(c *config.Config, current *wgtypes.Device, all bool) (wgtypes.Config, error) {
	if len(c.Peers) == 0 || len(current.Peers) == 0 {
		return WGConfig(c, Replace)
	}
	// wg pairs a device peer with the file's first section of its key
	// (its sort puts the device entry just before it).
	inFile := make(map[wgtypes.Key]int, len(c.Peers))
	for i := len(c.Peers) - 1; i >= 0; i-- {
		if _, dup := inFile[c.Peers[i].PublicKey]; dup {
			all = true
		}
		inFile[c.Peers[i].PublicKey] = i
	}
	taken, incremental := takenPrefixes(c.Peers)
	all = all || incremental
	var removes []wgtypes.PeerConfig
	// onDevice[i] is the index of the file's peer i on the device, plus
	// one (0: not there).
	onDevice := make([]int32, len(c.Peers))
	for j := range current.Peers {
		i, ok := inFile[current.Peers[j].PublicKey]
		if !ok {
			removes = append(removes, wgtypes.PeerConfig{PublicKey: current.Peers[j].PublicKey, Remove: true})
			continue
		}
		onDevice[i] = int32(j) + 1
	}
	sub := *c
	sub.Peers = nil
	var sent []int
	// mustSend[i]: an earlier peer that is sent takes a prefix that peer i,
	// given it last, must take back.
	mustSend := make([]bool, len(c.Peers))
	var scratch prefixScratch
	for i := range c.Peers {
		fp := &c.Peers[i]
		if !all && !fp.Remove && onDevice[i] != 0 && !mustSend[i] &&
			!peerChanged(fp, &current.Peers[onDevice[i]-1], taken[i], &scratch) {
			continue
		}
		sub.Peers = append(sub.Peers, *fp)
		sent = append(sent, i)
		for _, t := range taken[i] {
			mustSend[t.by] = true
		}
	}
	out, err := WGConfig(&sub, Replace)
	if err != nil {
		return out, err
	}
	out.ReplacePeers = false
	for k, i := range sent {
		fp, pc := &c.Peers[i], &out.Peers[k]
		if fp.Remove || onDevice[i] == 0 {
			continue
		}
		dp := &current.Peers[onDevice[i]-1]
		if dp.PresharedKey != (wgtypes.Key{}) && fp.PresharedKey == nil {
			pc.PresharedKey = &wgtypes.Key{}
		}
		if dp.PersistentKeepaliveInterval != 0 && fp.PersistentKeepalive == nil {
			zero := time.Duration(0)
			pc.PersistentKeepaliveInterval = &zero
		}
	}
	if len(removes) > 0 {
		// wg prepends its removals while walking the peers in ascending
		// key order, so they come out in descending key order.
		slices.SortFunc(removes, func(a, b wgtypes.PeerConfig) int { return bytes.Compare(b.PublicKey[:], a.PublicKey[:]) })
		out.Peers = append(removes, out.Peers...)
	}
	return out, nil
}

// takenPrefix is a prefix a peer's list gives that a later peer takes.
type takenPrefix struct {
	p  netip.Prefix // masked
	by int          // the later peer's index
}

// takenPrefixes finds, for each peer, the prefixes of its list that a
// later peer's list gives again (applied in order, the last one keeps a
// prefix), and whether any list is incremental (+/-), which only applying
// every section can reproduce. Real files give each prefix once: the map
// is then empty.
func takenPrefixes(peers []config.Peer) (map[int][]takenPrefix, bool) {
	// Each prefix given, as a key without pointers (a netip.Prefix holds
	// one, which made sorting 10,000 of them half of syncconf's own work),
	// with where it was given.
	type given struct {
		hi, lo    uint64 // the masked address, as 16 bytes
		bits      int16
		addrBits  int16 // 32 or 128: an IPv4 prefix never equals an IPv6 one
		peer, idx int32
	}
	n := 0
	for i := range peers {
		n += len(peers[i].AllowedIPs)
	}
	list := make([]given, 0, n)
	for i := range peers {
		if !peers[i].ReplaceAllowedIPs {
			return nil, true
		}
		for j, a := range peers[i].AllowedIPs {
			p := a.Prefix.Masked()
			b := p.Addr().As16()
			list = append(list, given{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), int16(p.Bits()), int16(p.Addr().BitLen()), int32(i), int32(j)})
		}
	}
	same := func(a, b *given) bool {
		return a.hi == b.hi && a.lo == b.lo && a.bits == b.bits && a.addrBits == b.addrBits
	}
	// By prefix, then by peer: each prefix's last peer ends its run.
	slices.SortFunc(list, func(a, b given) int {
		return cmp.Or(cmp.Compare(a.hi, b.hi), cmp.Compare(a.lo, b.lo), cmp.Compare(a.bits, b.bits),
			cmp.Compare(a.addrBits, b.addrBits), cmp.Compare(a.peer, b.peer))
	})
	var taken map[int][]takenPrefix
	for start := 0; start < len(list); {
		end := start + 1
		for end < len(list) && same(&list[end], &list[start]) {
			end++
		}
		last := list[end-1].peer
		for _, g := range list[start : end-1] {
			if g.peer != last {
				if taken == nil {
					taken = map[int][]takenPrefix{}
				}
				p := peers[g.peer].AllowedIPs[g.idx].Prefix.Masked()
				taken[int(g.peer)] = append(taken[int(g.peer)], takenPrefix{p, int(last)})
			}
		}
		start = end
	}
	return taken, false
}

// peerChanged reports whether sending the file's peer fp would change the
// device's peer dp (same key): its preshared key or keepalive (absent in
// the file means none), its endpoint when the file gives one, or its list
// of allowed IPs, less those a later peer takes.
func peerChanged(fp *config.Peer, dp *wgtypes.Peer, taken []takenPrefix, scratch *prefixScratch) bool {
	var psk wgtypes.Key
	if fp.PresharedKey != nil {
		psk = *fp.PresharedKey
	}
	ka := 0
	if fp.PersistentKeepalive != nil {
		ka = *fp.PersistentKeepalive
	}
	if psk != dp.PresharedKey || time.Duration(ka)*time.Second != dp.PersistentKeepaliveInterval {
		return true
	}
	if fp.Endpoint != nil {
		// Compared as they are: an IPv4-mapped address is not its IPv4
		// address to the device. When unsure, the peer is sent.
		want, ok := fp.Endpoint.AddrPort()
		if !ok || dp.Endpoint == nil {
			return true
		}
		ip, ok := netip.AddrFromSlice(dp.Endpoint.IP)
		if !ok || netip.AddrPortFrom(ip.WithZone(dp.Endpoint.Zone), uint16(dp.Endpoint.Port)) != want {
			return true
		}
	}
	return !scratch.same(fp.AllowedIPs, taken, dp.AllowedIPs)
}

// prefixScratch holds the lists prefixScratch.same compares, reused from
// peer to peer.
type prefixScratch struct {
	a, b        []netip.Prefix
	seen, taken map[netip.Prefix]bool
}

// same reports whether the device's list dev is what replacing it with a
// file's list leaves, less the prefixes taken by later peers: the same
// prefixes, host bits masked, in the same order. Order counts because the
// device reports a peer's allowed IPs in the order they were added (wg
// show, showconf), and a prefix given twice ends where it was last given,
// as a device adding it again moves it to the end.
func (s *prefixScratch) same(file []config.AllowedIP, taken []takenPrefix, dev []net.IPNet) bool {
	if len(file) < len(dev) {
		return false
	}
	s.b = s.b[:0]
	for _, n := range dev {
		p, ok := Prefix(n)
		if !ok {
			return false
		}
		s.b = append(s.b, p.Masked())
	}
	// The file's list as the device would hold it, collected from the
	// end (the last mention of a prefix counts), then reversed. Long
	// lists are checked against maps, short ones by a scan.
	long := len(file) > 16
	if long {
		if s.seen == nil {
			s.seen, s.taken = map[netip.Prefix]bool{}, map[netip.Prefix]bool{}
		}
		clear(s.seen)
		clear(s.taken)
		for _, t := range taken {
			s.taken[t.p] = true
		}
	}
	s.a = s.a[:0]
	for i := len(file) - 1; i >= 0; i-- {
		p := file[i].Prefix.Masked()
		if long {
			if s.seen[p] || s.taken[p] {
				continue
			}
			s.seen[p] = true
		} else if slices.Contains(s.a, p) || slices.ContainsFunc(taken, func(t takenPrefix) bool { return t.p == p }) {
			continue
		}
		s.a = append(s.a, p)
	}
	slices.Reverse(s.a)
	return slices.Equal(s.a, s.b)
}
