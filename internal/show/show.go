package show

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/keys"
)

// Options controls the pretty form.
type Options struct {
	// Color emits ANSI colour sequences (wg: WG_COLOR_MODE=always, or a
	// terminal on stdout).
	Color bool
	// HideKeys prints "(hidden)" instead of the private key and preshared
	// keys (wg: unless WG_HIDE_KEYS=never).
	HideKeys bool
	// Now is the current time, against which handshake ages are measured.
	// Only its whole Unix seconds count, as with wg's time(NULL). The zero
	// value is used as it is (every handshake is then in the future); pass
	// time.Now() for wg's behaviour.
	Now time.Time
}

// ErrInvalidField is returned by [Field] for a field name that is not one of
// [Fields]; wg reports it as "Invalid parameter: `FIELD'". Test for it with
// errors.Is.
var ErrInvalidField = errors.New("invalid field")

// fields lists the field names in the order of wg's usage text.
var fields = []string{
	"public-key", "private-key", "listen-port", "fwmark", "peers",
	"preshared-keys", "endpoints", "allowed-ips", "latest-handshakes",
	"transfer", "persistent-keepalive", "dump",
}

// Fields returns the field names [Field] accepts, in the order wg's usage
// text lists them.
func Fields() []string {
	return slices.Clone(fields)
}

// Interfaces writes the names the way "wg show interfaces" does: on one line,
// separated by single spaces, with a final newline, and nothing at all when
// there are no names.
func Interfaces(w io.Writer, names []string) error {
	if len(names) == 0 {
		return nil
	}
	if _, err := io.WriteString(w, strings.Join(names, " ")+"\n"); err != nil {
		return fmt.Errorf("writing interface list: %w", err)
	}
	return nil
}

// Pretty writes d the way "wg show IF" does: an "interface:" block followed
// by one block per peer, peers sorted by latest handshake, most recent
// first, those that never completed one last, ties in device order. It
// writes no blank line after the last peer; "wg show" with several
// interfaces puts one between them, which is the caller's job.
func Pretty(w io.Writer, d *wgtypes.Device, opts Options) error {
	c := newChunkWriter(w, opts.Color)
	// Every block starts with a reset, so colours left over by earlier
	// output (or by an interface name) do not bleed in.
	c.chunk(reset)
	c.chunk(fgGreen+bold+"interface"+reset+": "+fgGreen, deviceName(d), reset+"\n")
	if hasKey(d.PrivateKey) {
		c.chunk(labelStart, "public key", labelEnd, keys.Encode(d.PublicKey), "\n")
		c.chunk(labelStart, "private key", labelEnd, maskedKey(d.PrivateKey, opts.HideKeys), "\n")
	}
	if port := uint16(d.ListenPort); port != 0 {
		c.chunk(labelStart, "listening port", labelEnd, strconv.FormatUint(uint64(port), 10), "\n")
	}
	if mark := uint32(d.FirewallMark); mark != 0 {
		c.chunk(labelStart, "fwmark", labelEnd, "0x"+strconv.FormatUint(uint64(mark), 16), "\n")
	}
	if len(d.Peers) > 0 {
		c.chunk("\n")
	}
	now := opts.Now.Unix()
	for i, p := range sortedPeers(d.Peers) {
		c.chunk(fgYellow+bold+"peer"+reset+": "+fgYellow, keys.Encode(p.PublicKey), reset+"\n")
		if hasKey(p.PresharedKey) {
			c.chunk(labelStart, "preshared key", labelEnd, maskedKey(p.PresharedKey, opts.HideKeys), "\n")
		}
		if ep, ok := endpointString(p.Endpoint); ok {
			c.chunk(labelStart, "endpoint", labelEnd, ep, "\n")
		}
		c.chunk(labelStart, "allowed ips", labelEnd)
		ips := allowedIPs(p.AllowedIPs)
		if len(ips) == 0 {
			c.chunk("(none)\n")
		}
		for j, ip := range ips {
			sep := ", "
			if j == len(ips)-1 {
				sep = "\n"
			}
			c.chunk(ip.addr, fgCyan+"/"+reset, ip.cidr, sep)
		}
		// Only the seconds decide whether the line appears, although the
		// sort above also looks at the nanoseconds.
		if sec, _ := handshake(p); sec != 0 {
			c.chunk(labelStart, "latest handshake", labelEnd, ago(sec, now), "\n")
		}
		if rx, tx := uint64(p.ReceiveBytes), uint64(p.TransmitBytes); rx != 0 || tx != 0 {
			c.chunk(labelStart, "transfer", labelEnd)
			c.chunk(byteCount(rx), " received, ")
			c.chunk(byteCount(tx), " sent\n")
		}
		if ka := keepalive(p); ka != 0 {
			c.chunk(labelStart, "persistent keepalive", labelEnd, "every ", duration(uint64(ka)), "\n")
		}
		if i < len(d.Peers)-1 {
			c.chunk("\n")
		}
	}
	if err := c.flush(); err != nil {
		return fmt.Errorf("writing interface %s: %w", d.Name, err)
	}
	return nil
}

// labelStart and labelEnd surround the name that starts an indented
// attribute line of the pretty form; passed as separate parts of a chunk,
// they cost no allocation per line.
const (
	labelStart = "  " + bold
	labelEnd   = reset + ": "
)

// maskedKey returns k in base64, or "(hidden)".
func maskedKey(k wgtypes.Key, hide bool) string {
	if hide {
		return "(hidden)"
	}
	return keys.Encode(k)
}

// hasKey reports whether k is set; wgtypes has no separate "absent" state,
// so an all-zero key stands for none (as wg itself treats a zero preshared
// key).
func hasKey(k wgtypes.Key) bool {
	return k != wgtypes.Key{}
}

// sortedPeers returns pointers to the peers in pretty-output order. wg
// sorts with qsort, which glibc implements as a stable merge sort, so peers
// with equal handshake times keep their device order.
func sortedPeers(peers []wgtypes.Peer) []*wgtypes.Peer {
	out := make([]*wgtypes.Peer, len(peers))
	for i := range peers {
		out[i] = &peers[i]
	}
	sort.SliceStable(out, func(i, j int) bool {
		as, an := handshake(out[i])
		bs, bn := handshake(out[j])
		aNever, bNever := as == 0 && an == 0, bs == 0 && bn == 0
		if aNever || bNever {
			return !aNever && bNever
		}
		if as != bs {
			return as > bs
		}
		return an > bn
	})
	return out
}

// Field writes one field of d the way "wg show IF FIELD" does (withName
// false) or the lines for d of "wg show all FIELD" (withName true, which
// prefixes every line with the interface name and a tab). Per-peer fields
// list the peers in device order, one line each, and print nothing for a
// device without peers. For an unknown field it writes nothing and returns
// an error wrapping [ErrInvalidField].
func Field(w io.Writer, d *wgtypes.Device, field string, withName bool) error {
	// One buffer, appended to (a dump of 10,000 peers is 80,000 columns,
	// and a string per column made it slower than wg's C) and written out
	// whenever a line starts past flushAt, so that its size does not grow
	// with the number of peers.
	b := make([]byte, 0, flushAt+4096)
	var werr error
	write := func() {
		if werr == nil && len(b) > 0 {
			_, werr = w.Write(b)
		}
		b = b[:0]
	}
	start := func() []byte {
		if len(b) >= flushAt {
			write()
		}
		if withName {
			b = append(b, deviceName(d)...)
			b = append(b, '\t')
		}
		return b
	}
	// peerStart begins a peer's line with its public key and a tab.
	peerStart := func(p *wgtypes.Peer) {
		b = start()
		b = keys.AppendPublic(b, p.PublicKey)
		b = append(b, '\t')
	}
	switch field {
	case "public-key":
		b = appendKey(start(), d.PublicKey, hasKey(d.PrivateKey), false)
		b = append(b, '\n')
	case "private-key":
		b = appendKey(start(), d.PrivateKey, hasKey(d.PrivateKey), true)
		b = append(b, '\n')
	case "listen-port":
		b = strconv.AppendUint(start(), uint64(uint16(d.ListenPort)), 10)
		b = append(b, '\n')
	case "fwmark":
		b = append(append(start(), fwmark(d)...), '\n')
	case "peers":
		for i := range d.Peers {
			b = keys.AppendPublic(start(), d.Peers[i].PublicKey)
			b = append(b, '\n')
		}
	case "preshared-keys":
		for i := range d.Peers {
			p := &d.Peers[i]
			peerStart(p)
			b = append(appendKey(b, p.PresharedKey, hasKey(p.PresharedKey), true), '\n')
		}
	case "endpoints":
		for i := range d.Peers {
			p := &d.Peers[i]
			peerStart(p)
			b = append(appendEndpointOrNone(b, p.Endpoint), '\n')
		}
	case "allowed-ips":
		for i := range d.Peers {
			p := &d.Peers[i]
			peerStart(p)
			b = append(appendAllowedIPList(b, p.AllowedIPs, ' '), '\n')
		}
	case "latest-handshakes":
		for i := range d.Peers {
			p := &d.Peers[i]
			peerStart(p)
			b = append(appendHandshake(b, p), '\n')
		}
	case "transfer":
		for i := range d.Peers {
			p := &d.Peers[i]
			peerStart(p)
			b = strconv.AppendUint(b, uint64(p.ReceiveBytes), 10)
			b = append(b, '\t')
			b = strconv.AppendUint(b, uint64(p.TransmitBytes), 10)
			b = append(b, '\n')
		}
	case "persistent-keepalive":
		for i := range d.Peers {
			p := &d.Peers[i]
			peerStart(p)
			b = append(appendKeepalive(b, p), '\n')
		}
	case "dump":
		b = appendKey(start(), d.PrivateKey, hasKey(d.PrivateKey), true)
		b = append(b, '\t')
		b = appendKey(b, d.PublicKey, hasKey(d.PrivateKey), false)
		b = append(b, '\t')
		b = strconv.AppendUint(b, uint64(uint16(d.ListenPort)), 10)
		b = append(b, '\t')
		b = append(b, fwmark(d)...)
		b = append(b, '\n')
		for i := range d.Peers {
			p := &d.Peers[i]
			peerStart(p)
			b = appendKey(b, p.PresharedKey, hasKey(p.PresharedKey), true)
			b = append(b, '\t')
			b = appendEndpointOrNone(b, p.Endpoint)
			b = append(b, '\t')
			b = appendAllowedIPList(b, p.AllowedIPs, ',')
			b = append(b, '\t')
			b = appendHandshake(b, p)
			b = append(b, '\t')
			b = strconv.AppendUint(b, uint64(p.ReceiveBytes), 10)
			b = append(b, '\t')
			b = strconv.AppendUint(b, uint64(p.TransmitBytes), 10)
			b = append(b, '\t')
			b = appendKeepalive(b, p)
			b = append(b, '\n')
		}
	default:
		return fmt.Errorf("%w: %q", ErrInvalidField, field)
	}
	if write(); werr != nil {
		return fmt.Errorf("writing %s of interface %s: %w", field, d.Name, werr)
	}
	return nil
}

// appendKey appends k in base64, or "(none)" when !have; secret keys go
// through the constant-time encoder.
func appendKey(b []byte, k wgtypes.Key, have, secret bool) []byte {
	switch {
	case !have:
		return append(b, "(none)"...)
	case secret:
		return append(b, keys.Encode(k)...)
	default:
		return keys.AppendPublic(b, k)
	}
}

// fwmark returns the firewall mark in lowercase hex, or "off".
func fwmark(d *wgtypes.Device) string {
	mark := uint32(d.FirewallMark)
	if mark == 0 {
		return "off"
	}
	return "0x" + strconv.FormatUint(uint64(mark), 16)
}

// appendEndpointOrNone appends the peer's endpoint, or "(none)".
func appendEndpointOrNone(b []byte, e *net.UDPAddr) []byte {
	if nb, ok := appendEndpoint(b, e); ok {
		return nb
	}
	return append(b, "(none)"...)
}

// appendAllowedIPList appends the allowed IPs joined by sep, or "(none)".
func appendAllowedIPList(b []byte, nets []net.IPNet, sep byte) []byte {
	if len(nets) == 0 {
		return append(b, "(none)"...)
	}
	for i := range nets {
		if i > 0 {
			b = append(b, sep)
		}
		b = appendAllowedIP(b, &nets[i], "/")
	}
	return b
}

// appendHandshake appends the handshake's Unix seconds, "0" for never; wg
// prints the signed time_t as unsigned.
func appendHandshake(b []byte, p *wgtypes.Peer) []byte {
	sec, _ := handshake(p)
	return strconv.AppendUint(b, uint64(sec), 10)
}

// appendKeepalive appends the keepalive interval in seconds, or "off".
func appendKeepalive(b []byte, p *wgtypes.Peer) []byte {
	if ka := keepalive(p); ka != 0 {
		return strconv.AppendUint(b, uint64(ka), 10)
	}
	return append(b, "off"...)
}
