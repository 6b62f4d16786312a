package config

import (
	"net/netip"
	"strconv"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Config is a parsed configuration: the [Interface] fields merged over every
// [Interface] section, and the peers in file order. Duplicate [Peer]
// sections with the same key stay separate entries, as wg sends them.
type Config struct {
	Interface Interface
	Peers     []Peer
}

// Interface holds the [Interface] section. Pointer fields are nil when the
// key was absent: setconf then resets the device field, addconf leaves it.
type Interface struct {
	PrivateKey *wgtypes.Key
	ListenPort *int
	FwMark     *uint32

	// The fields below are wg-quick's own; wg never sees them.

	// Addresses in file order, as given (host bits kept: 10.0.0.1/24).
	Addresses []netip.Prefix
	// AddressText holds each Address entry as written (10.0.0.1 without a
	// prefix length stays so), parallel to Addresses, for the `[#] ip
	// address add` lines wg-quick prints.
	AddressText []string
	// DNS servers and search domains, classified as wg-quick does.
	DNS       []netip.Addr
	DNSSearch []string
	// MTU is 0 when unset (auto).
	MTU int
	// Table is "" when unset; otherwise "auto", "off", a number or a
	// routing table name, as written.
	Table      string
	PreUp      []string
	PostUp     []string
	PreDown    []string
	PostDown   []string
	SaveConfig bool
}

// Peer is one [Peer] section.
type Peer struct {
	PublicKey wgtypes.Key
	// PresharedKey is nil when absent. An all-zero key means "no PSK" to the
	// device and is printed by nobody.
	PresharedKey *wgtypes.Key
	// Endpoint is nil when absent.
	Endpoint *Endpoint
	// Remove deletes the peer from the device (`wg set ... peer K remove`);
	// nothing else of the section is sent then.
	Remove bool
	// PersistentKeepalive is nil when absent; 0 means off.
	PersistentKeepalive *int
	// ReplaceAllowedIPs is true when the section has an AllowedIPs line
	// without the upstream +/- incremental syntax: the device's list is then
	// replaced rather than edited.
	ReplaceAllowedIPs bool
	AllowedIPs        []AllowedIP

	// Line is the line of the [Peer] header (0 when not from a file).
	Line int
}

// AllowedIP is one entry of an AllowedIPs list. The prefix keeps the host
// bits as written (10.0.0.7/24); the device masks them.
type AllowedIP struct {
	Prefix netip.Prefix
	// Remove is the upstream `-` prefix: delete this entry from the peer.
	Remove bool
}

// Endpoint is a peer endpoint as written: a host (IP literal, possibly with a
// %zone, or a name still to be resolved) and a port already converted the
// way getaddrinfo converts a service.
type Endpoint struct {
	Host string
	Port uint16
	// Addr is set when Host is an IP literal, or after resolution.
	Addr netip.Addr
}

// AddrPort returns the endpoint as an address and port; ok is false while the
// host is an unresolved name.
func (e Endpoint) AddrPort() (netip.AddrPort, bool) {
	if !e.Addr.IsValid() {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(e.Addr, e.Port), true
}

// String formats the endpoint as showconf does: IPv6 in brackets, the port
// in decimal. A name not yet resolved is printed as written.
// appendTo appends what String returns, building no string for an IPv4
// address, the common case (`wg showconf` of 10,000 peers formatted each
// endpoint three times over as strings).
func (e Endpoint) appendTo(b []byte) []byte {
	if e.Addr.Is4() {
		b = e.Addr.AppendTo(b)
		return strconv.AppendUint(append(b, ':'), uint64(e.Port), 10)
	}
	return append(b, e.String()...)
}

func (e Endpoint) String() string {
	host := e.Host
	if e.Addr.IsValid() {
		host = formatAddr(e.Addr)
	}
	return joinHostPort(host, e.Port)
}
