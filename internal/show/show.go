package show

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
	c := &chunkWriter{color: opts.Color}
	// Every block starts with a reset, so colours left over by earlier
	// output (or by an interface name) do not bleed in.
	c.chunk(reset)
	c.chunk(fgGreen+bold+"interface"+reset+": "+fgGreen, deviceName(d), reset+"\n")
	if hasKey(d.PrivateKey) {
		c.chunk(label("public key"), keys.Encode(d.PublicKey), "\n")
		c.chunk(label("private key"), maskedKey(d.PrivateKey, opts.HideKeys), "\n")
	}
	if port := uint16(d.ListenPort); port != 0 {
		c.chunk(label("listening port"), strconv.FormatUint(uint64(port), 10), "\n")
	}
	if mark := uint32(d.FirewallMark); mark != 0 {
		c.chunk(label("fwmark"), "0x"+strconv.FormatUint(uint64(mark), 16), "\n")
	}
	if len(d.Peers) > 0 {
		c.chunk("\n")
	}
	now := opts.Now.Unix()
	for i, p := range sortedPeers(d.Peers) {
		c.chunk(fgYellow+bold+"peer"+reset+": "+fgYellow, keys.Encode(p.PublicKey), reset+"\n")
		if hasKey(p.PresharedKey) {
			c.chunk(label("preshared key"), maskedKey(p.PresharedKey, opts.HideKeys), "\n")
		}
		if ep, ok := endpointString(p.Endpoint); ok {
			c.chunk(label("endpoint"), ep, "\n")
		}
		c.chunk(label("allowed ips"))
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
			c.chunk(label("latest handshake"), ago(sec, now), "\n")
		}
		if rx, tx := uint64(p.ReceiveBytes), uint64(p.TransmitBytes); rx != 0 || tx != 0 {
			c.chunk(label("transfer"))
			c.chunk(byteCount(rx), " received, ")
			c.chunk(byteCount(tx), " sent\n")
		}
		if ka := keepalive(p); ka != 0 {
			c.chunk(label("persistent keepalive"), "every ", duration(uint64(ka)), "\n")
		}
		if i < len(d.Peers)-1 {
			c.chunk("\n")
		}
	}
	if _, err := w.Write(c.buf.Bytes()); err != nil {
		return fmt.Errorf("writing interface %s: %w", d.Name, err)
	}
	return nil
}

// label starts an indented attribute line of the pretty form.
func label(name string) string {
	return "  " + bold + name + reset + ": "
}

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
	var b bytes.Buffer
	prefix := ""
	if withName {
		prefix = deviceName(d) + "\t"
	}
	line := func(cols ...string) {
		b.WriteString(prefix)
		b.WriteString(strings.Join(cols, "\t"))
		b.WriteString("\n")
	}
	switch field {
	case "public-key":
		line(maybeKey(d.PublicKey, hasKey(d.PrivateKey)))
	case "private-key":
		line(maybeKey(d.PrivateKey, hasKey(d.PrivateKey)))
	case "listen-port":
		line(strconv.FormatUint(uint64(uint16(d.ListenPort)), 10))
	case "fwmark":
		line(fwmark(d))
	case "peers":
		for _, p := range d.Peers {
			line(keys.Encode(p.PublicKey))
		}
	case "preshared-keys":
		for _, p := range d.Peers {
			line(keys.Encode(p.PublicKey), maybeKey(p.PresharedKey, hasKey(p.PresharedKey)))
		}
	case "endpoints":
		for _, p := range d.Peers {
			line(keys.Encode(p.PublicKey), endpointOrNone(&p))
		}
	case "allowed-ips":
		for _, p := range d.Peers {
			line(keys.Encode(p.PublicKey), allowedIPList(&p, " "))
		}
	case "latest-handshakes":
		for _, p := range d.Peers {
			line(keys.Encode(p.PublicKey), handshakeSeconds(&p))
		}
	case "transfer":
		for _, p := range d.Peers {
			line(keys.Encode(p.PublicKey), counter(p.ReceiveBytes), counter(p.TransmitBytes))
		}
	case "persistent-keepalive":
		for _, p := range d.Peers {
			line(keys.Encode(p.PublicKey), keepaliveOrOff(&p))
		}
	case "dump":
		line(
			maybeKey(d.PrivateKey, hasKey(d.PrivateKey)),
			maybeKey(d.PublicKey, hasKey(d.PrivateKey)),
			strconv.FormatUint(uint64(uint16(d.ListenPort)), 10),
			fwmark(d),
		)
		for _, p := range d.Peers {
			line(
				keys.Encode(p.PublicKey),
				maybeKey(p.PresharedKey, hasKey(p.PresharedKey)),
				endpointOrNone(&p),
				allowedIPList(&p, ","),
				handshakeSeconds(&p),
				counter(p.ReceiveBytes),
				counter(p.TransmitBytes),
				keepaliveOrOff(&p),
			)
		}
	default:
		return fmt.Errorf("%w: %q", ErrInvalidField, field)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("writing %s of interface %s: %w", field, d.Name, err)
	}
	return nil
}

// maybeKey returns k in base64, or "(none)".
func maybeKey(k wgtypes.Key, have bool) string {
	if !have {
		return "(none)"
	}
	return keys.Encode(k)
}

// fwmark returns the firewall mark in lowercase hex, or "off".
func fwmark(d *wgtypes.Device) string {
	mark := uint32(d.FirewallMark)
	if mark == 0 {
		return "off"
	}
	return "0x" + strconv.FormatUint(uint64(mark), 16)
}

// endpointOrNone returns the peer's endpoint, or "(none)".
func endpointOrNone(p *wgtypes.Peer) string {
	if ep, ok := endpointString(p.Endpoint); ok {
		return ep
	}
	return "(none)"
}

// allowedIPList returns the peer's allowed IPs joined by sep, or "(none)".
func allowedIPList(p *wgtypes.Peer, sep string) string {
	ips := allowedIPs(p.AllowedIPs)
	if len(ips) == 0 {
		return "(none)"
	}
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.addr + "/" + ip.cidr
	}
	return strings.Join(s, sep)
}

// handshakeSeconds returns the handshake's Unix seconds, "0" for never. wg
// prints the signed time_t as unsigned.
func handshakeSeconds(p *wgtypes.Peer) string {
	sec, _ := handshake(p)
	return strconv.FormatUint(uint64(sec), 10)
}

// counter formats a byte counter as the unsigned value the device reported
// (wgtypes stores the kernel's u64 in an int64).
func counter(n int64) string {
	return strconv.FormatUint(uint64(n), 10)
}

// keepaliveOrOff returns the keepalive interval in seconds, or "off".
func keepaliveOrOff(p *wgtypes.Peer) string {
	if ka := keepalive(p); ka != 0 {
		return strconv.FormatUint(uint64(ka), 10)
	}
	return "off"
}
