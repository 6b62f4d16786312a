package config

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// The value parsers below are shared by configuration files and `wg set`
// arguments. Each reproduces the acceptance set and the message of the
// corresponding parser in wireguard-tools' config.c, so that a script that
// greps wg's stderr keeps working. Messages quote the value in wg's
// back-tick-apostrophe style.

// Quote repeats a piece of input (a value, a line, an argument) in wg's
// `value' style, made safe to print (Redact). Every message that repeats
// input goes through it.
func Quote(s string) string { return "`" + Redact(s) + "'" }

func quote(s string) string { return Quote(s) }

// QuotePath is Quote for a file path, which names a file and hides no
// key: non-graphic characters are escaped and the length is capped, and
// nothing is hidden.
func QuotePath(s string) string { return "`" + escapeCapped(s) + "'" }

// ParsePort parses a ListenPort value. wg hands the value to getaddrinfo as a
// UDP service, so glibc's rules apply: a number is read like strtoul and
// truncated to 16 bits (70000 is 4464, 65536 is 0 meaning "pick one"); a
// number whose 32-bit truncation is negative, or anything else, is looked up
// as a service name in /etc/services (`domain` is 53).
func ParsePort(value string, lookup ServiceLookup) (int, error) {
	if value == "" {
		return 0, errors.New("Unable to parse empty port")
	}
	p, err := servicePort(value, lookup)
	if err != nil {
		return 0, fmt.Errorf("%s: %s", err.Error(), quote(value))
	}
	return int(p), nil
}

// errServiceNotSupported is gai_strerror(EAI_SERVICE) in glibc.
var errServiceNotSupported = errors.New("Servname not supported for ai_socktype")

// servicePort converts a service as getaddrinfo(3) does for a UDP socket.
func servicePort(s string, lookup ServiceLookup) (uint16, error) {
	if v, rest := strtoul(s); rest == "" {
		// glibc stores the strtoul result in an int and treats a negative
		// one as "not numeric" (so "-1" is looked up as a name and fails).
		if n := int32(uint32(v)); n >= 0 {
			return uint16(n), nil
		}
	}
	if lookup == nil {
		lookup = SystemServices
	}
	if p, ok := lookup(s); ok {
		return p, nil
	}
	return 0, errServiceNotSupported
}

// strtoul mimics C's strtoul(s, &end, 10): leading white space, an optional
// sign, decimal digits; overflow saturates. rest is what end points at; when
// no digits are found rest is the whole input.
func strtoul(s string) (v uint64, rest string) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	overflow := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			overflow = true
		}
		v = v*10 + d
		i++
	}
	if i == start {
		return 0, s
	}
	if overflow {
		return math.MaxUint64, s[i:]
	}
	if neg {
		v = -v
	}
	return v, s[i:]
}

// isCSpace is C's isspace in the C locale, which is also wg's char_is_space
// and bash's [[:space:]]: space, \t, \n, \v, \f, \r.
func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// decimal parses a string made only of ASCII digits (at least one), which is
// what wg's "must start with a digit, then strtoul, then must be fully
// consumed" checks amount to. Values over max report ok=false.
func decimal(s string, max uint64) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
		if v > max {
			return 0, false
		}
	}
	return v, true
}

// ParseFwMark parses a FwMark value: `off` (any case) or 0, a decimal
// number, or a hexadecimal one written with a lowercase 0x, at most
// 0xffffffff. Leading zeros are decimal (010 is 10), as in wg.
func ParseFwMark(value string) (uint32, error) {
	if strings.EqualFold(value, "off") {
		return 0, nil
	}
	var (
		v  uint64
		ok bool
	)
	if len(value) > 2 && value[0] == '0' && value[1] == 'x' {
		v, ok = hexadecimal(value[2:], math.MaxUint32)
	} else {
		v, ok = decimal(value, math.MaxUint32)
	}
	if !ok {
		return 0, errors.New("Fwmark is neither 0/off nor 0-0xffffffff: " + quote(value))
	}
	return uint32(v), nil
}

func hexadecimal(s string, max uint64) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(d)
		if v > max {
			return 0, false
		}
	}
	return v, true
}

// ParseKeepalive parses a PersistentKeepalive value: `off` (any case) or a
// decimal number of seconds up to 65535. wg's message says 1-65535 although
// 0 is accepted; we keep the message because scripts may match it.
func ParseKeepalive(value string) (int, error) {
	if strings.EqualFold(value, "off") {
		return 0, nil
	}
	v, ok := decimal(value, math.MaxUint16)
	if !ok {
		return 0, errors.New("Persistent keepalive interval is neither 0/off nor 1-65535: " + quote(value))
	}
	return int(v), nil
}

// ParseAllowedIPs parses a comma-separated AllowedIPs value whose white space
// has already been removed. replace reports whether the list replaces the
// peer's (false as soon as one entry uses the upstream +/- syntax). warn, if
// not nil, receives wg's "nonzero host part" warning.
func ParseAllowedIPs(value string, warn func(string)) (ips []AllowedIP, replace bool, err error) {
	replace = true
	if value == "" {
		return nil, replace, nil
	}
	// Sized once: regrowing made a long list allocate five times its
	// size. The count comes from the input, so it is bounded by what the
	// value's length allows (an entry is at least two characters and a
	// comma): a line of commas cannot ask for more.
	ips = make([]AllowedIP, 0, min(strings.Count(value, ",")+1, len(value)/3+1))
	for entry := range strings.SplitSeq(value, ",") {
		var a AllowedIP
		if entry != "" && (entry[0] == '+' || entry[0] == '-') {
			a.Remove = entry[0] == '-'
			replace = false
			entry = entry[1:]
		}
		ipText, mask, hasMask := strings.Cut(entry, "/")
		addr, ok := parseStrictIP(ipText)
		if !ok {
			return nil, false, errors.New("Unable to parse IP address: " + quote(ipText))
		}
		bits := addr.BitLen()
		if hasMask {
			v, ok := decimal(mask, uint64(bits))
			if !ok {
				return nil, false, errors.New("AllowedIP is not in the correct format: " + quote(entry))
			}
			bits = int(v)
		}
		a.Prefix = netip.PrefixFrom(addr, bits)
		if warn != nil && a.Prefix.Masked().Addr() != addr {
			warn("Warning: AllowedIP has nonzero host part: " + ipText + "/" + mask)
		}
		ips = append(ips, a)
	}
	return ips, replace, nil
}

// parseStrictIP is inet_pton as wg uses it: a string with a colon must be an
// IPv6 address (no zone), anything else a dotted quad without leading zeros.
func parseStrictIP(s string) (netip.Addr, bool) {
	addr, err := netip.ParseAddr(s)
	if err != nil || addr.Zone() != "" {
		return netip.Addr{}, false
	}
	if strings.Contains(s, ":") != addr.Is6() {
		return netip.Addr{}, false
	}
	return addr, true
}

// ParseEndpoint splits and checks an Endpoint value the way wg does before
// it calls getaddrinfo: `[host]:port`, or host and port split at the last
// colon (so an unbracketed IPv6 address works when its last group is the
// port). The port is converted like ListenPort. A host that is an IP literal
// is parsed now; a name is left for Resolve.
//
// Unlike wg, a port that is not a number nor a known service fails at once:
// wg treats that getaddrinfo error as transient and retries it for about 72
// seconds before giving up with the same message.
func ParseEndpoint(value string, lookup ServiceLookup) (*Endpoint, error) {
	if value == "" {
		return nil, errors.New("Unable to parse empty endpoint")
	}
	var host, port string
	if value[0] == '[' {
		end := strings.IndexByte(value, ']')
		if end < 0 {
			return nil, errors.New("Unable to find matching brace of endpoint: " + quote(value))
		}
		host = value[1:end]
		rest := value[end+1:]
		if len(rest) < 2 || rest[0] != ':' {
			return nil, errors.New("Unable to find port of endpoint: " + quote(value))
		}
		port = rest[1:]
	} else {
		i := strings.LastIndexByte(value, ':')
		if i < 0 || i == len(value)-1 {
			return nil, errors.New("Unable to find port of endpoint: " + quote(value))
		}
		host, port = value[:i], value[i+1:]
	}
	p, err := servicePort(port, lookup)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", err.Error(), quote(value))
	}
	if host == "" {
		return nil, errors.New("Name or service not known: " + quote(value))
	}
	e := &Endpoint{Host: host, Port: p}
	if addr, err := netip.ParseAddr(host); err == nil {
		if !validZone(addr.Zone()) {
			// getaddrinfo finds no interface by that name either.
			return nil, errors.New("Name or service not known: " + quote(value))
		}
		e.Addr = addr
	} else if !validHostname(host) {
		// getaddrinfo would look such a name up and fail; say so now.
		return nil, errors.New("Name or service not known: " + quote(value))
	}
	return e, nil
}

// validZone accepts an empty zone or one that could name an interface (or
// be an index): the characters wg-quick allows in interface names.
func validZone(z string) bool {
	for i := 0; i < len(z); i++ {
		c := z[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_=+.-", c) >= 0) {
			return false
		}
	}
	return true
}

// validHostname reports whether s could be a DNS name: ASCII letters,
// digits, '-', '_' and '.', or bytes of a UTF-8 name the resolver may map.
func validHostname(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c >= 0x80) {
			return false
		}
	}
	return true
}

// formatAddr prints an address as glibc's inet_ntop does. It differs from
// netip.Addr.String in one case: an IPv6 address whose first 96 bits are
// zero (the deprecated IPv4-compatible form) is printed with a dotted quad,
// ::1.2.3.4, where Go prints ::102:304.
func formatAddr(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		b := a.As16()
		zero := true
		for _, x := range b[:12] {
			zero = zero && x == 0
		}
		if zero && (b[12] != 0 || b[13] != 0) {
			s := "::" + netip.AddrFrom4([4]byte(b[12:16])).String()
			if z := a.Zone(); z != "" {
				s += "%" + z
			}
			return s
		}
	}
	return a.String()
}

// formatPrefix prints a prefix as wg and ip(8) do, keeping any host bits.
func formatPrefix(p netip.Prefix) string {
	return string(appendPrefix(nil, p))
}

// appendPrefix appends formatPrefix(p) to b.
func appendPrefix(b []byte, p netip.Prefix) []byte {
	a := p.Addr()
	if a.Is4() || a.Is4In6() || !compatV4(a) {
		b = a.AppendTo(b)
	} else {
		b = append(b, formatAddr(a)...)
	}
	b = append(b, '/')
	return strconv.AppendInt(b, int64(p.Bits()), 10)
}

// compatV4 reports an IPv6 address that formatAddr prints in the
// IPv4-compatible form ::a.b.c.d.
func compatV4(a netip.Addr) bool {
	if !a.Is6() || a.Is4In6() {
		return false
	}
	b := a.As16()
	for _, x := range b[:12] {
		if x != 0 {
			return false
		}
	}
	return b[12] != 0 || b[13] != 0
}

func joinHostPort(host string, port uint16) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(int(port))
	}
	return host + ":" + strconv.Itoa(int(port))
}
