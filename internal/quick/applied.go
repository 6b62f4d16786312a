package quick

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
	"github.com/wgtools/wgtools/internal/keys"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Applied is the configuration in force on an interface, as the last up or
// reload applied it. Reload compares a file against it rather than against
// the device, whose endpoints roam and whose counters and handshakes must
// not matter. It holds no secret: the private key is kept as its public
// key, a preshared key as the SHA-256 of its bytes.
type Applied struct {
	PublicKey  string         `json:"public_key,omitempty"`
	ListenPort *int           `json:"listen_port,omitempty"`
	FwMark     *uint32        `json:"fwmark,omitempty"`
	Addresses  []netip.Prefix `json:"addresses,omitempty"`
	DNS        []netip.Addr   `json:"dns,omitempty"`
	DNSSearch  []string       `json:"dns_search,omitempty"`
	MTU        int            `json:"mtu,omitempty"` // 0: automatic
	Table      string         `json:"table,omitempty"`
	Peers      []AppliedPeer  `json:"peers,omitempty"`

	// Mark is the fwmark the device got: FwMark, else the table a full
	// tunnel found free, else 0.
	Mark uint32 `json:"mark,omitempty"`
	// Routes are the routes up and reload added through the interface
	// (the kernel's own routes for its addresses are not among them).
	Routes []AppliedRoute `json:"routes,omitempty"`
}

// AppliedPeer is one peer as the device holds it after every [Peer]
// section of its key was applied in file order: a later section's
// AllowedIPs replace an earlier one's, and a prefix belongs to the last
// peer given it.
type AppliedPeer struct {
	PublicKey string `json:"public_key"`
	PSK       string `json:"psk_sha256,omitempty"`
	// Endpoint is as written: a host name stays a name, so that reload
	// neither resolves nor resends an unchanged one.
	Endpoint   string         `json:"endpoint,omitempty"`
	Keepalive  int            `json:"persistent_keepalive,omitempty"`
	AllowedIPs []netip.Prefix `json:"allowed_ips,omitempty"` // masked
}

// AppliedRoute is one route through the interface; Table 0 is main.
type AppliedRoute struct {
	Prefix netip.Prefix `json:"prefix"`
	Table  int          `json:"table,omitempty"`
}

// The configuration model.

// wantPeer is one peer of a configuration, merged over its sections as
// the device merges them, with what reload sends.
type wantPeer = config.MergedPeer

// mergePeers is config.MergePeers, with the device's error for a `-ADDR`
// entry.
func mergePeers(cfg *config.Config) ([]*wantPeer, error) {
	peers, err := config.MergePeers(cfg)
	if errors.Is(err, config.ErrRemoveInFile) {
		return nil, device.ErrRemoveAllowedIP
	}
	return peers, err
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
		a.Peers = append(a.Peers, appliedPeer(w))
	}
	return a
}

func appliedPeer(w *wantPeer) AppliedPeer {
	return AppliedPeer{
		PublicKey:  w.Key.String(),
		PSK:        fingerprint(w.PSK),
		Endpoint:   endpointText(w.Endpoint),
		Keepalive:  w.Keepalive,
		AllowedIPs: slices.Clone(w.AllowedIPs),
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
