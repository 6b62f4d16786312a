package show

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Duration units of wg's pretty_time: a year is always 365 days.
const (
	secondsPerMinute = 60
	secondsPerHour   = 60 * secondsPerMinute
	secondsPerDay    = 24 * secondsPerHour
	secondsPerYear   = 365 * secondsPerDay
)

// FormatDuration formats secs the way wg's pretty output does for handshake
// ages and keepalive intervals: the non-zero parts among years (of 365 days),
// days, hours, minutes and seconds, in that order, each as "N unit" with a
// plural "s" unless N is 1, joined by ", ". For example 65535 is
// "18 hours, 12 minutes, 15 seconds". Zero yields the empty string (wg never
// prints a zero duration). With color, each unit name is wrapped in cyan.
func FormatDuration(secs uint64, color bool) string {
	if color {
		return duration(secs)
	}
	return plain(duration(secs))
}

// duration is FormatDuration with escape sequences, as wg builds it before
// filtering.
func duration(secs uint64) string {
	parts := []struct {
		n    uint64
		unit string
	}{
		{secs / secondsPerYear, "year"},
		{secs % secondsPerYear / secondsPerDay, "day"},
		{secs % secondsPerDay / secondsPerHour, "hour"},
		{secs % secondsPerHour / secondsPerMinute, "minute"},
		{secs % secondsPerMinute, "second"},
	}
	var b strings.Builder
	for _, p := range parts {
		if p.n == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatUint(p.n, 10))
		b.WriteString(" " + fgCyan + p.unit)
		if p.n != 1 {
			b.WriteString("s")
		}
		b.WriteString(reset)
	}
	return b.String()
}

// ago describes a handshake at Unix second then as seen at Unix second now,
// with escape sequences. wg compares whole seconds only, so "Now" means the
// same second, and a handshake in a later second than now is reported as a
// clock problem rather than as a negative age.
func ago(then, now int64) string {
	switch {
	case now == then:
		return "Now"
	case now < then:
		return "(" + fgRed + "System clock wound backward; connection problems may ensue." + reset + ")"
	default:
		return duration(uint64(now-then)) + " ago"
	}
}

// Byte units of wg's transfer line; there is nothing above TiB.
const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
	tib = 1 << 40
)

// FormatBytes formats a byte counter the way wg's pretty transfer line does:
// below 1024 as an integer number of "B", otherwise as a value with two
// decimals (C's "%.2f", which rounds the exact binary value half to even) in
// the largest of KiB, MiB, GiB and TiB that keeps it at least 1. Rounding can
// show "1024.00" of the smaller unit (1073741823 is "1024.00 MiB"). With
// color, the unit is wrapped in cyan.
func FormatBytes(b uint64, color bool) string {
	if color {
		return byteCount(b)
	}
	return plain(byteCount(b))
}

// byteCount is FormatBytes with escape sequences.
func byteCount(b uint64) string {
	unit := func(v float64, name string) string {
		return strconv.FormatFloat(v, 'f', 2, 64) + " " + fgCyan + name + reset
	}
	switch {
	case b < kib:
		return strconv.FormatUint(b, 10) + " " + fgCyan + "B" + reset
	case b < mib:
		return unit(float64(b)/kib, "KiB")
	case b < gib:
		return unit(float64(b)/mib, "MiB")
	case b < tib:
		return unit(float64(b)/gib, "GiB")
	default:
		return unit(float64(b)/tib, "TiB")
	}
}

// appendAddr appends an address formatted like glibc's inet_ntop. Go's
// formatting agrees (lowercase hex, the first longest run of at least two
// zero words compressed, ::ffff:a.b.c.d for IPv4-mapped addresses) except
// for IPv4-compatible addresses: glibc prints an address whose first six
// words are zero and whose seventh is not in dotted form, ::a.b.c.d.
func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is6() {
		x := a.As16()
		if isZero(x[:12]) && (x[12] != 0 || x[13] != 0) {
			return netip.AddrFrom4([4]byte(x[12:])).AppendTo(append(b, "::"...))
		}
	}
	return a.WithZone("").AppendTo(b)
}

// addrString is appendAddr as a string.
func addrString(a netip.Addr) string { return string(appendAddr(nil, a)) }

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// appendEndpoint appends a peer endpoint formatted like wg does with
// getnameinfo (numeric host and service): "a.b.c.d:port" for an IPv4
// endpoint and "[addr%zone]:port" for an IPv6 one. ok is false (and b
// unchanged) when the peer has no endpoint. The family follows the IP's
// length (see the package documentation), so a 16-byte IPv4-mapped address
// stays IPv6.
func appendEndpoint(b []byte, e *net.UDPAddr) (_ []byte, ok bool) {
	if e == nil {
		return b, false
	}
	switch len(e.IP) {
	case net.IPv4len:
		b = appendAddr(b, netip.AddrFrom4([4]byte(e.IP)))
	case net.IPv6len:
		b = append(b, '[')
		b = appendAddr(b, netip.AddrFrom16([16]byte(e.IP)))
		if e.Zone != "" {
			// getnameinfo appends the scope whenever the sockaddr has a
			// non-zero scope ID; the device layer has already turned it
			// into a name or a number.
			b = append(append(b, '%'), e.Zone...)
		}
		b = append(b, ']')
	default:
		return b, false
	}
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(uint16(e.Port)), 10), true
}

// endpointString is appendEndpoint as a string.
func endpointString(e *net.UDPAddr) (string, bool) {
	b, ok := appendEndpoint(nil, e)
	return string(b), ok
}

// allowedIP is one allowed IP as wg prints it: the address and the prefix
// length, kept apart because pretty output colours the slash between them.
type allowedIP struct {
	addr string
	cidr string
}

// allowedIPs converts a peer's allowed IPs for pretty and JSON output.
func allowedIPs(nets []net.IPNet) []allowedIP {
	out := make([]allowedIP, 0, len(nets))
	for i := range nets {
		addr, ones := allowedIPParts(&nets[i])
		out = append(out, allowedIP{addr: string(appendAllowedAddr(nil, addr)), cidr: strconv.Itoa(ones)})
	}
	return out
}

// allowedIPParts splits an allowed IP into its address and prefix length.
// The family is decided by the mask length, since an IPv4 address may be
// stored in 16 bytes; without a usable mask the IP's length decides. An
// address of neither family is invalid, and prints as the empty string, as
// wg does for an AF_UNSPEC entry.
func allowedIPParts(n *net.IPNet) (netip.Addr, int) {
	ones, _ := n.Mask.Size()
	family := len(n.Mask)
	if family != net.IPv4len && family != net.IPv6len {
		family = len(n.IP)
	}
	switch family {
	case net.IPv4len:
		if ip := n.IP.To4(); ip != nil {
			return netip.AddrFrom4([4]byte(ip)), ones
		}
	case net.IPv6len:
		if ip := n.IP.To16(); ip != nil {
			return netip.AddrFrom16([16]byte(ip)), ones
		}
	}
	return netip.Addr{}, ones
}

// appendAllowedAddr appends an allowed IP's address, nothing if invalid.
func appendAllowedAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return b
	}
	return appendAddr(b, a)
}

// appendAllowedIP appends "addr" sep "cidr".
func appendAllowedIP(b []byte, n *net.IPNet, sep string) []byte {
	addr, ones := allowedIPParts(n)
	b = appendAllowedAddr(b, addr)
	b = append(b, sep...)
	return strconv.AppendInt(b, int64(ones), 10)
}

// handshake returns a peer's latest handshake as wg's timespec: (0, 0) when
// there has been none.
func handshake(p *wgtypes.Peer) (sec, nsec int64) {
	t := p.LastHandshakeTime
	if t.IsZero() {
		return 0, 0
	}
	return t.Unix(), int64(t.Nanosecond())
}

// keepalive returns a peer's persistent keepalive interval in seconds, as the
// 16-bit value wg stores; 0 means off.
func keepalive(p *wgtypes.Peer) uint16 {
	return uint16(p.PersistentKeepaliveInterval / time.Second)
}

// deviceName returns the interface name as wg prints it: wg copies the name
// into a char[IFNAMSIZ] with strncpy, so anything after a NUL byte or beyond
// 15 bytes is lost. This is visible with userspace devices, whose socket
// name may be longer than the kernel would allow.
func deviceName(d *wgtypes.Device) string {
	name := d.Name
	if i := strings.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	if len(name) > maxNameLen {
		name = name[:maxNameLen]
	}
	return name
}

// maxNameLen is IFNAMSIZ-1.
const maxNameLen = 15
