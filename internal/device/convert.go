package device

import (
	"fmt"
	"iter"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
)

// This file is the one border between our netip-based model and wgctrl's
// net-based types, in both directions.

// Mode says how a configuration file is applied, as wg's subcommands do.
type Mode int

const (
	// Set sends only what the configuration names (`wg set`, `addconf`).
	Set Mode = iota
	// Replace resets absent interface fields and replaces all peers
	// (`setconf`).
	Replace
)

// ErrRemoveAllowedIP is returned for the upstream `-ADDR` allowed-ip syntax
// where it cannot be sent: to a kernel device through wgctrl, which cannot
// express it yet, or in a request built by WGConfig.
var ErrRemoveAllowedIP error = removeAllowedIPError{}

// removeAllowedIPError is ErrRemoveAllowedIP's type: a constant that
// unwraps to EOPNOTSUPP, built without fmt at start-up.
type removeAllowedIPError struct{}

func (removeAllowedIPError) Error() string {
	return "removing a single allowed IP (-ADDR) is not supported by this device interface: " + syscall.EOPNOTSUPP.Error()
}

func (removeAllowedIPError) Unwrap() error { return syscall.EOPNOTSUPP }

// Request is a configuration request that may also remove single allowed
// IPs (the upstream `-ADDR` syntax): Remove[i] lists the prefixes to take
// from Config.Peers[i].
type Request struct {
	Config wgtypes.Config
	Remove [][]netip.Prefix
}

// WGRequest is WGConfig that also carries `-ADDR` removals instead of
// refusing them. Client.Apply sends them to userspace devices, whose UAPI
// has `allowed_ip=-ADDR` (our embedded device does; wireguard-go releases
// before 2025 answer EINVAL).
func WGRequest(c *config.Config, mode Mode) (Request, error) {
	stripped := *c
	stripped.Peers = make([]config.Peer, len(c.Peers))
	remove := make([][]netip.Prefix, len(c.Peers))
	hasRemoval := false
	for i, p := range c.Peers {
		p.AllowedIPs = slices.DeleteFunc(slices.Clone(p.AllowedIPs), func(a config.AllowedIP) bool {
			if a.Remove {
				remove[i] = append(remove[i], a.Prefix.Masked())
				hasRemoval = true
			}
			return a.Remove
		})
		stripped.Peers[i] = p
	}
	cfg, err := WGConfig(&stripped, mode)
	if err != nil {
		return Request{}, err
	}
	if !hasRemoval {
		remove = nil
	}
	return Request{Config: cfg, Remove: remove}, nil
}

// WGConfig converts a parsed configuration into one wgctrl request. In
// Replace mode absent interface fields are sent as zero (wg's setconf
// removes the private key and resets port and fwmark) and the peer list is
// replaced. Endpoints must have been resolved.
func WGConfig(c *config.Config, mode Mode) (wgtypes.Config, error) {
	var out wgtypes.Config
	ifc := &c.Interface
	if ifc.PrivateKey != nil || mode == Replace {
		k := wgtypes.Key{}
		if ifc.PrivateKey != nil {
			k = *ifc.PrivateKey
		}
		out.PrivateKey = &k
	}
	if ifc.ListenPort != nil || mode == Replace {
		p := 0
		if ifc.ListenPort != nil {
			p = *ifc.ListenPort
		}
		out.ListenPort = &p
	}
	if ifc.FwMark != nil || mode == Replace {
		m := 0
		if ifc.FwMark != nil {
			m = int(*ifc.FwMark)
		}
		out.FirewallMark = &m
	}
	out.ReplacePeers = mode == Replace
	out.Peers = make([]wgtypes.PeerConfig, 0, len(c.Peers))
	// Endpoints, allowed IPs and keepalives come from shared blocks, not
	// one allocation each (a syncconf of 10,000 peers made 40,000).
	var arena ipArena
	var kas []time.Duration
	for i := range c.Peers {
		p := &c.Peers[i]
		pc := wgtypes.PeerConfig{
			PublicKey:         p.PublicKey,
			Remove:            p.Remove,
			PresharedKey:      p.PresharedKey,
			ReplaceAllowedIPs: p.ReplaceAllowedIPs,
		}
		if p.Remove {
			// wg sends nothing else for a removed peer.
			out.Peers = append(out.Peers, wgtypes.PeerConfig{PublicKey: p.PublicKey, Remove: true})
			continue
		}
		if p.Endpoint != nil {
			ap, ok := p.Endpoint.AddrPort()
			if !ok {
				return wgtypes.Config{}, fmt.Errorf("endpoint %s of peer %s is not resolved", p.Endpoint, p.PublicKey)
			}
			pc.Endpoint = arena.endpoint(ap)
		}
		if p.PersistentKeepalive != nil {
			if len(kas) == cap(kas) {
				kas = make([]time.Duration, 0, min(len(c.Peers)-i, 1024))
			}
			kas = append(kas, time.Duration(*p.PersistentKeepalive)*time.Second)
			pc.PersistentKeepaliveInterval = &kas[len(kas)-1]
		}
		for _, a := range p.AllowedIPs {
			if a.Remove {
				return wgtypes.Config{}, ErrRemoveAllowedIP
			}
			pc.AllowedIPs = arena.appendNet(pc.AllowedIPs, net.IPNet{IP: arena.ip(a.Prefix.Addr()), Mask: cidrMask(a.Prefix.Bits(), a.Prefix.Addr().BitLen())})
		}
		out.Peers = append(out.Peers, pc)
	}
	return out, nil
}

// IPNet converts an allowed IP for wgctrl, sharing one mask per length.
func IPNet(p netip.Prefix) net.IPNet {
	return net.IPNet{IP: p.Addr().AsSlice(), Mask: cidrMask(p.Bits(), p.Addr().BitLen())}
}

// netmasks holds every netmask once: allowed IPs share them rather than
// allocating one each (a device may have hundreds of thousands). They are
// never written to. Built on first use, not at start-up: `wg genkey` has no
// use for 162 masks.
var netmasks = sync.OnceValue(func() *maskTable {
	m := new(maskTable)
	for i := range m.v4 {
		m.v4[i] = net.CIDRMask(i, 32)
	}
	for i := range m.v6 {
		m.v6[i] = net.CIDRMask(i, 128)
	}
	return m
})

type maskTable struct {
	v4 [33]net.IPMask
	v6 [129]net.IPMask
}

func cidrMask(bits, total int) net.IPMask {
	if total == 32 && bits >= 0 && bits <= 32 {
		return netmasks().v4[bits]
	}
	if total == 128 && bits >= 0 && bits <= 128 {
		return netmasks().v6[bits]
	}
	return net.CIDRMask(bits, total)
}

// Config converts a device's state into our model, for save and down.
// A zero private key or preshared key means none, as wg reports them.
func Config(d *wgtypes.Device) *config.Config {
	c := &config.Config{Interface: Interface(d)}
	c.Peers = make([]config.Peer, len(d.Peers))
	// What the peers point to is allocated in blocks for all of them,
	// not per peer: `wg showconf` of 10,000 peers made 50,000 small
	// allocations here.
	nIPs := 0
	for i := range d.Peers {
		nIPs += len(d.Peers[i].AllowedIPs)
	}
	s := peerStore{ips: make([]config.AllowedIP, 0, nIPs)}
	for i := range d.Peers {
		s.convert(&d.Peers[i], &c.Peers[i], len(d.Peers)-i)
	}
	return c
}

// Interface converts a device's own fields, as Config does.
func Interface(d *wgtypes.Device) config.Interface {
	var ifc config.Interface
	if d.PrivateKey != (wgtypes.Key{}) {
		k := d.PrivateKey
		ifc.PrivateKey = &k
	}
	port := d.ListenPort
	ifc.ListenPort = &port
	mark := uint32(d.FirewallMark)
	ifc.FwMark = &mark
	return ifc
}

// ConfigPeers yields d's peers converted as Config converts them, one at
// a time into one Peer that is valid only until the next: for showconf,
// which prints each and forgets it (config.WriteShowconfPeers).
func ConfigPeers(d *wgtypes.Device) iter.Seq[*config.Peer] {
	return func(yield func(*config.Peer) bool) {
		var s peerStore
		var p config.Peer
		for i := range d.Peers {
			s.reset()
			s.convert(&d.Peers[i], &p, 1)
			if !yield(&p) {
				return
			}
		}
	}
}

// peerStore holds what converted peers point to (preshared keys,
// endpoints, keepalives, allowed IPs), appended to blocks; reset lets the
// blocks be written over by the next peer.
type peerStore struct {
	psks []wgtypes.Key
	eps  []config.Endpoint
	kas  []int
	ips  []config.AllowedIP
}

func (s *peerStore) reset() {
	s.psks, s.eps, s.kas, s.ips = s.psks[:0], s.eps[:0], s.kas[:0], s.ips[:0]
}

// convert converts p into cp; left is how many peers remain, this one
// included, which sizes a new block.
func (s *peerStore) convert(p *wgtypes.Peer, cp *config.Peer, left int) {
	block := min(left, 1024)
	*cp = config.Peer{PublicKey: p.PublicKey}
	if p.PresharedKey != (wgtypes.Key{}) {
		if len(s.psks) == cap(s.psks) {
			s.psks = make([]wgtypes.Key, 0, block)
		}
		s.psks = append(s.psks, p.PresharedKey)
		cp.PresharedKey = &s.psks[len(s.psks)-1]
	}
	if p.Endpoint != nil {
		if ap, ok := addrPort(p.Endpoint); ok {
			if len(s.eps) == cap(s.eps) {
				s.eps = make([]config.Endpoint, 0, block)
			}
			s.eps = append(s.eps, config.Endpoint{Host: ap.Addr().String(), Port: ap.Port(), Addr: ap.Addr()})
			cp.Endpoint = &s.eps[len(s.eps)-1]
		}
	}
	if len(s.kas) == cap(s.kas) {
		s.kas = make([]int, 0, block)
	}
	s.kas = append(s.kas, int(p.PersistentKeepaliveInterval/time.Second))
	cp.PersistentKeepalive = &s.kas[len(s.kas)-1]
	start := len(s.ips)
	for _, n := range p.AllowedIPs {
		if pfx, ok := Prefix(n); ok {
			s.ips = append(s.ips, config.AllowedIP{Prefix: pfx})
		}
	}
	if len(s.ips) > start {
		cp.AllowedIPs = s.ips[start:len(s.ips):len(s.ips)]
	}
}

// addrPort converts an endpoint. net.IP cannot tell an IPv4 address from
// its IPv4-mapped IPv6 form, so both come out as IPv4 (a known limit of
// going through wgctrl's types).
func addrPort(u *net.UDPAddr) (netip.AddrPort, bool) {
	a, ok := netip.AddrFromSlice(u.IP)
	if !ok {
		return netip.AddrPort{}, false
	}
	a = a.Unmap()
	if u.Zone != "" {
		a = a.WithZone(u.Zone)
	}
	return netip.AddrPortFrom(a, uint16(u.Port)), true
}

// Prefix converts an allowed IP from wgctrl; the mask length tells the
// family, since wgctrl may hold IPv4 addresses in 16 bytes.
func Prefix(n net.IPNet) (netip.Prefix, bool) {
	ones, bits := n.Mask.Size()
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok || bits == 0 {
		return netip.Prefix{}, false
	}
	if bits == 32 {
		a = a.Unmap()
	}
	return netip.PrefixFrom(a, ones), true
}
