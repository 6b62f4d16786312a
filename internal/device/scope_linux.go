package device

import (
	"encoding/binary"
	"fmt"
	"net"
	"strconv"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// wgctrl reads and writes a kernel peer's IPv6 endpoint without its scope
// ID (sin6_scope_id), so `wg set IF peer K endpoint [fe80::1%eth0]:51820`
// would give the kernel an endpoint it cannot route, and `wg show` would
// print a link-local endpoint without the `%eth0` wg prints. The two
// functions below carry just the scope IDs over generic netlink, beside
// wgctrl's requests; found by running the tests on Debian's kernel module
// (scripts/vm).

// offsetScopeID is where sin6_scope_id sits in a struct sockaddr_in6.
const offsetScopeID = 24

// needsScope reports whether a peer's endpoint, as wgctrl read it, may have
// lost a scope ID that wg would print: an IPv6 link-local address, the only
// kind for which glibc's getnameinfo prints the interface name.
func needsScope(ep *net.UDPAddr) bool {
	return ep != nil && ep.IP.To4() == nil && (ep.IP.IsLinkLocalUnicast() || ep.IP.IsLinkLocalMulticast())
}

// kernelZones fills in the zones of d's link-local IPv6 endpoints from a
// dump of the kernel device: the interface name of the scope ID, or the ID
// in decimal where no interface in this namespace has it (as getnameinfo
// prints it).
func kernelZones(d *wgtypes.Device) error {
	need := false
	for i := range d.Peers {
		need = need || needsScope(d.Peers[i].Endpoint)
	}
	if !need {
		return nil
	}
	scopes, err := kernelScopeIDs(d.Name)
	if err != nil {
		return err
	}
	for i := range d.Peers {
		p := &d.Peers[i]
		if id := scopes[p.PublicKey]; id != 0 && needsScope(p.Endpoint) {
			p.Endpoint.Zone = zoneName(id)
		}
	}
	return nil
}

func zoneName(id uint32) string {
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		return ifi.Name
	}
	return strconv.FormatUint(uint64(id), 10)
}

// kernelScopeIDs dumps the device name and returns the non-zero scope IDs
// of its peers' IPv6 endpoints by public key. The dump may span many
// messages; a peer may appear in several of them (its allowed IPs
// continued), with its endpoint in the first.
func kernelScopeIDs(name string) (map[wgtypes.Key]uint32, error) {
	c, family, err := dialWireGuard()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.WGDEVICE_A_IFNAME, name)
	b, err := ae.Encode()
	if err != nil {
		return nil, err
	}
	msgs, err := c.Execute(genetlink.Message{
		Header: genetlink.Header{Command: unix.WG_CMD_GET_DEVICE, Version: unix.WG_GENL_VERSION},
		Data:   b,
	}, family, netlink.Request|netlink.Dump)
	if err != nil {
		return nil, fmt.Errorf("reading endpoint scopes of %s: %w", name, err)
	}
	scopes := make(map[wgtypes.Key]uint32)
	for _, m := range msgs {
		ad, err := netlink.NewAttributeDecoder(m.Data)
		if err != nil {
			return nil, err
		}
		for ad.Next() {
			if ad.Type() != unix.WGDEVICE_A_PEERS {
				continue
			}
			ad.Nested(func(peers *netlink.AttributeDecoder) error {
				for peers.Next() {
					peers.Nested(func(pd *netlink.AttributeDecoder) error {
						var key wgtypes.Key
						var scope uint32
						for pd.Next() {
							switch pd.Type() {
							case unix.WGPEER_A_PUBLIC_KEY:
								copy(key[:], pd.Bytes())
							case unix.WGPEER_A_ENDPOINT:
								if sa := pd.Bytes(); len(sa) == unix.SizeofSockaddrInet6 {
									scope = binary.NativeEndian.Uint32(sa[offsetScopeID:])
								}
							}
						}
						if scope != 0 {
							scopes[key] = scope
						}
						return nil
					})
				}
				return nil
			})
		}
		if err := ad.Err(); err != nil {
			return nil, fmt.Errorf("reading endpoint scopes of %s: %w", name, err)
		}
	}
	return scopes, nil
}

// setKernelScopes sets again, with their scope IDs, the endpoints of cfg's
// peers that have a zone, after wgctrl sent them without. Only the public
// key and the endpoint are sent, so nothing else of the peer changes.
func setKernelScopes(name string, cfg wgtypes.Config) error {
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.WGDEVICE_A_IFNAME, name)
	n := 0
	var zoneErr error
	ae.Nested(unix.WGDEVICE_A_PEERS, func(peers *netlink.AttributeEncoder) error {
		for _, p := range cfg.Peers {
			ep := p.Endpoint
			if p.Remove || ep == nil || ep.Zone == "" || ep.IP.To4() != nil {
				continue
			}
			id, err := zoneIndex(ep.Zone)
			if err != nil {
				zoneErr = err
				return err
			}
			var sa [unix.SizeofSockaddrInet6]byte
			binary.NativeEndian.PutUint16(sa[0:], unix.AF_INET6)
			binary.BigEndian.PutUint16(sa[2:], uint16(ep.Port))
			copy(sa[8:24], ep.IP.To16())
			binary.NativeEndian.PutUint32(sa[offsetScopeID:], id)
			peers.Nested(uint16(n), func(pe *netlink.AttributeEncoder) error {
				pe.Bytes(unix.WGPEER_A_PUBLIC_KEY, p.PublicKey[:])
				pe.Bytes(unix.WGPEER_A_ENDPOINT, sa[:])
				return nil
			})
			n++
		}
		return nil
	})
	if zoneErr != nil {
		return zoneErr
	}
	if n == 0 {
		return nil
	}
	b, err := ae.Encode()
	if err != nil {
		return err
	}
	c, family, err := dialWireGuard()
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Execute(genetlink.Message{
		Header: genetlink.Header{Command: unix.WG_CMD_SET_DEVICE, Version: unix.WG_GENL_VERSION},
		Data:   b,
	}, family, netlink.Request|netlink.Acknowledge)
	return err
}

// zoneIndex is the scope ID of a zone: an interface's name, or a number.
func zoneIndex(zone string) (uint32, error) {
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index), nil
	}
	n, err := strconv.ParseUint(zone, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("endpoint zone %q: no such interface", zone)
	}
	return uint32(n), nil
}

func dialWireGuard() (*genetlink.Conn, uint16, error) {
	c, err := genetlink.Dial(nil)
	if err != nil {
		return nil, 0, err
	}
	f, err := c.GetFamily(unix.WG_GENL_NAME)
	if err != nil {
		c.Close()
		return nil, 0, err
	}
	return c, f.ID, nil
}
