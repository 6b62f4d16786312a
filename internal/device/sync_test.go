package device

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/keys"
)

// modelDevice is what a WireGuard device keeps of a configuration, with
// the rules the kernel and wireguard-go share: peers in the order they
// were added; each prefix on one peer, the last one given it, at the end
// of that peer's list (added again, it moves there).
type modelDevice struct {
	peers []*modelPeer
}

type modelPeer struct {
	key  wgtypes.Key
	psk  wgtypes.Key
	ka   time.Duration
	ep   *net.UDPAddr
	pfxs []netip.Prefix
}

func (m *modelDevice) peer(k wgtypes.Key) (int, *modelPeer) {
	for i, p := range m.peers {
		if p.key == k {
			return i, p
		}
	}
	return -1, nil
}

func (m *modelDevice) apply(t *testing.T, cfg wgtypes.Config) {
	if cfg.ReplacePeers {
		m.peers = nil
	}
	for _, pc := range cfg.Peers {
		i, p := m.peer(pc.PublicKey)
		if pc.Remove {
			if p != nil {
				m.peers = slices.Delete(m.peers, i, i+1)
			}
			continue
		}
		if p == nil {
			p = &modelPeer{key: pc.PublicKey}
			m.peers = append(m.peers, p)
		}
		if pc.PresharedKey != nil {
			p.psk = *pc.PresharedKey
		}
		if pc.PersistentKeepaliveInterval != nil {
			p.ka = *pc.PersistentKeepaliveInterval
		}
		if pc.Endpoint != nil {
			p.ep = pc.Endpoint
		}
		if pc.ReplaceAllowedIPs {
			p.pfxs = nil
		}
		for _, n := range pc.AllowedIPs {
			pfx, ok := Prefix(n)
			if !ok {
				t.Fatalf("bad allowed IP %v", n)
			}
			pfx = pfx.Masked()
			for _, o := range m.peers {
				o.pfxs = slices.DeleteFunc(o.pfxs, func(q netip.Prefix) bool { return q == pfx })
			}
			p.pfxs = append(p.pfxs, pfx)
		}
	}
}

func (m *modelDevice) device() *wgtypes.Device {
	d := &wgtypes.Device{}
	for _, p := range m.peers {
		wp := wgtypes.Peer{PublicKey: p.key, PresharedKey: p.psk, PersistentKeepaliveInterval: p.ka, Endpoint: p.ep}
		for _, pfx := range p.pfxs {
			wp.AllowedIPs = append(wp.AllowedIPs, IPNet(pfx))
		}
		d.Peers = append(d.Peers, wp)
	}
	return d
}

// syncFile builds a configuration file from fuzz bytes: up to six
// sections over four keys, lists over six prefixes (host bits set or
// not, repeats and prefixes given to two peers included), and a few
// preshared keys, keepalives and endpoints.
func syncFile(data []byte) string {
	pfxs := []string{"10.0.0.0/24", "10.0.0.9/24", "10.1.0.1/32", "fd00::/64", "fd00::5/128", "::ffff:10.0.0.0/104"}
	eps := []string{"192.0.2.1:5", "192.0.2.2:5", "[2001:db8::1]:5", "[::ffff:192.0.2.1]:5"}
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	var b strings.Builder
	b.WriteString("[Interface]\nListenPort = 5\n")
	for n := int(next() % 7); n > 0; n-- {
		f := next()
		fmt.Fprintf(&b, "[Peer]\nPublicKey = %s\n", keys.Encode(key(f%4)))
		if f&4 != 0 {
			fmt.Fprintf(&b, "PresharedKey = %s\n", keys.Encode(key(1+f>>7)))
		}
		if f&8 != 0 {
			fmt.Fprintf(&b, "PersistentKeepalive = %d\n", 1+f>>7)
		}
		if f&16 != 0 {
			fmt.Fprintf(&b, "Endpoint = %s\n", eps[int(f>>5)%len(eps)])
		}
		if f&32 != 0 {
			list := []string{}
			// Up to 20 entries: past 16, SyncConfig compares with maps.
			for m := int(next() % 21); m > 0; m-- {
				list = append(list, pfxs[int(next())%len(pfxs)])
			}
			fmt.Fprintf(&b, "AllowedIPs = %s\n", strings.Join(list, ", "))
		}
	}
	return b.String()
}

// FuzzSyncConfigSendsChanges: from any device state (itself left by a
// syncconf of a file), sending only the changed peers leaves the device
// exactly as sending every peer, wg's way, does.
func FuzzSyncConfigSendsChanges(f *testing.F) {
	f.Add([]byte{3, 0x30, 2, 0, 1, 0x31, 1, 0}, []byte{3, 0x31, 2, 0, 1, 0x30, 1, 0})
	f.Add([]byte{2, 0x3c, 3, 1, 2, 3, 0x35, 1, 4}, []byte{2, 0x3d, 1, 1, 0x34, 2, 0, 4})
	f.Fuzz(func(t *testing.T, before, after []byte) {
		var m modelDevice
		first, err := parseOK(syncFile(before))
		if err != nil {
			return
		}
		req, err := syncConfig(first, m.device(), true)
		if err != nil {
			t.Fatal(err)
		}
		m.apply(t, req)
		file, err := parseOK(syncFile(after))
		if err != nil {
			return
		}
		current := m.device()
		want, got := modelDevice{peers: clonePeers(m.peers)}, modelDevice{peers: clonePeers(m.peers)}
		full, err := syncConfig(file, current, true)
		if err != nil {
			t.Fatal(err)
		}
		changes, err := SyncConfig(file, current)
		if err != nil {
			t.Fatal(err)
		}
		want.apply(t, full)
		got.apply(t, changes)
		if diff := cmp.Diff(want.device(), got.device()); diff != "" {
			t.Fatalf("file:\n%s\ndevice before: %+v\nsending changes leaves (-all sent +changes sent):\n%s", syncFile(after), current, diff)
		}
	})
}

func clonePeers(ps []*modelPeer) []*modelPeer {
	out := make([]*modelPeer, len(ps))
	for i, p := range ps {
		c := *p
		c.pfxs = slices.Clone(p.pfxs)
		out[i] = &c
	}
	return out
}

func parseOK(text string) (*config.Config, error) {
	return config.ParseWG([]byte(text), config.Options{})
}
