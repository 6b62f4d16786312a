package device

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/keys"
)

// This file speaks the cross-platform userspace API (UAPI) directly for
// devices with a socket in RunDir. wgctrl's UAPI client is kept for
// for the kernel path only, for four reasons measured or seen
// while comparing with wg(8):
//   - speed: it splits every line and parses endpoints with
//     net.ResolveUDPAddr and allowed IPs with net.ParseCIDR; reading a
//     10,000-peer device took twice as long as wg's whole process;
//   - fidelity: it stores IPv4 endpoints in 16-byte form (indistinguishable
//     from IPv4-mapped IPv6), drops handshakes whose nanoseconds are 0, and
//     turns a device's errno into an opaque string;
//   - IPv4-mapped allowed IPs are written back as IPv4 by net.IPNet.String;
//   - the upstream `-ADDR` allowed-ip removal cannot be expressed (here it
//     is `allowed_ip=-ADDR`).
// The kernel path still goes through wgctrl's generic netlink client.

// uapiGet reads a device over its UAPI socket.
func uapiGet(path, name string) (*wgtypes.Device, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "get=1\n\n"); err != nil {
		return nil, err
	}
	d, err := parseUAPI(bufio.NewReaderSize(conn, 16<<10))
	if err != nil {
		return nil, err
	}
	d.Name = name
	d.Type = wgtypes.Userspace
	return d, nil
}

// parseUAPI parses a `get` reply. As in wg, a reply must end with an
// `errno=0` line before its blank line to count as success; anything
// malformed is EPROTO ("Protocol error"), and unknown keys are ignored.
func parseUAPI(r *bufio.Reader) (*wgtypes.Device, error) {
	d := &wgtypes.Device{}
	// Peers are read into blocks and copied into d.Peers once at the end
	// (or not at all when one block holds them): growing a slice of
	// 10,000 peers (150 bytes each) copied them again and again, and one
	// allocation per peer was a tenth of `wg show dump` on 10,000 peers.
	var blocks [][]wgtypes.Peer
	var block []wgtypes.Peer
	var peer *wgtypes.Peer
	var hsSec, hsNsec int64
	hasKey := false
	sawErrno := false
	var arena ipArena
	finishPeer := func() {
		if peer != nil && (hsSec != 0 || hsNsec != 0) {
			peer.LastHandshakeTime = time.Unix(hsSec, hsNsec)
		}
		hsSec, hsNsec = 0, 0
	}
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return nil, syscall.EPROTO
			}
			return nil, fmt.Errorf("%w: %v", syscall.EPROTO, err)
		}
		line = line[:len(line)-1]
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte{'='})
		if !ok {
			return nil, syscall.EPROTO
		}
		var perr error
		switch string(k) {
		case "private_key":
			var key wgtypes.Key
			if key, perr = keys.ParseHex(string(v)); perr == nil {
				d.PrivateKey, hasKey = key, true
			}
		case "listen_port":
			var n uint64
			n, perr = strconv.ParseUint(string(v), 10, 16)
			d.ListenPort = int(n)
		case "fwmark":
			var n uint64
			n, perr = strconv.ParseUint(string(v), 10, 32)
			d.FirewallMark = int(n)
		case "public_key":
			finishPeer()
			var key wgtypes.Key
			if key, perr = keys.ParsePublicHex(v); perr == nil {
				if len(block) == cap(block) {
					if block != nil {
						blocks = append(blocks, block)
					}
					block = make([]wgtypes.Peer, 0, 256)
					prefault(block)
				}
				block = append(block, wgtypes.Peer{PublicKey: key})
				peer = &block[len(block)-1]
			}
		case "errno":
			var n uint64
			if n, perr = strconv.ParseUint(string(v), 10, 32); perr == nil && n != 0 {
				return nil, syscall.Errno(n)
			}
			sawErrno = true
		default:
			if peer == nil {
				continue
			}
			perr = peerField(peer, k, v, &hsSec, &hsNsec, &arena)
		}
		if perr != nil {
			return nil, fmt.Errorf("%w: %s: %v", syscall.EPROTO, k, perr)
		}
	}
	finishPeer()
	if !sawErrno {
		return nil, syscall.EPROTO
	}
	if len(blocks) == 0 && len(block) > 0 {
		d.Peers = block
	} else if len(block) > 0 {
		d.Peers = make([]wgtypes.Peer, 0, 256*len(blocks)+len(block))
		prefault(d.Peers)
		for _, b := range append(blocks, block) {
			d.Peers = append(d.Peers, b...)
		}
	}
	if hasKey && d.PrivateKey != (wgtypes.Key{}) {
		d.PublicKey = keys.Public(d.PrivateKey)
	}
	return d, nil
}

// ipArena hands out what a peer points to (IP slices, allowed-IP lists,
// endpoints) carved from large blocks, so that reading a device does not
// allocate once per address: a short-lived `wg show` never collects
// garbage, so every allocation is peak memory.
type ipArena struct {
	buf  []byte
	nets []net.IPNet
	eps  []net.UDPAddr
}

// appendNet adds n to ips, the allowed IPs of the peer being read. A peer's
// allowed_ip lines are consecutive, so its list is kept as the tail of the
// current block and grows in place; only when the block is full is the list
// moved to a new one.
func (a *ipArena) appendNet(ips []net.IPNet, n net.IPNet) []net.IPNet {
	if len(a.nets) == cap(a.nets) {
		block := make([]net.IPNet, 0, max(1024, 2*len(ips)))
		prefault(block)
		a.nets = append(block, ips...)
	} else if len(ips) > 0 && &ips[0] != &a.nets[len(a.nets)-len(ips)] {
		// Not at the tail (never the case for a well-formed reply, whose
		// peers' lines do not interleave): copy it there.
		a.nets = append(a.nets, ips...)
	}
	a.nets = append(a.nets, n)
	return a.nets[len(a.nets)-len(ips)-1 : len(a.nets) : len(a.nets)]
}

// endpoint returns a UDPAddr from the current block.
func (a *ipArena) endpoint(ap netip.AddrPort) *net.UDPAddr {
	if len(a.eps) == cap(a.eps) {
		a.eps = make([]net.UDPAddr, 0, 512)
		prefault(a.eps)
	}
	addr := ap.Addr()
	a.eps = append(a.eps, net.UDPAddr{IP: a.ip(addr), Port: int(ap.Port()), Zone: addr.Zone()})
	return &a.eps[len(a.eps)-1]
}

func (a *ipArena) ip(addr netip.Addr) net.IP {
	n := addr.BitLen() / 8
	if len(a.buf) < n {
		a.buf = make([]byte, 16<<10)
		prefault(a.buf)
	}
	ip := net.IP(a.buf[:n:n])
	a.buf = a.buf[n:]
	if n == 4 {
		b := addr.As4()
		copy(ip, b[:])
	} else {
		b := addr.As16()
		copy(ip, b[:])
	}
	return ip
}

func peerField(p *wgtypes.Peer, k, v []byte, hsSec, hsNsec *int64, arena *ipArena) error {
	var err error
	switch string(k) {
	case "preshared_key":
		// A userspace device reports every peer's key, all zeros for
		// none; that a peer has none is no secret (wg show says so).
		if !allZeroDigits(v) {
			p.PresharedKey, err = keys.ParseHex(string(v))
		} else if len(v) != keys.HexLen {
			err = keys.ErrFormat
		}
	case "endpoint":
		var ap netip.AddrPort
		if ap, err = netip.ParseAddrPort(string(v)); err == nil {
			p.Endpoint = arena.endpoint(ap)
		}
	case "last_handshake_time_sec":
		*hsSec, err = strconv.ParseInt(string(v), 10, 64)
	case "last_handshake_time_nsec":
		*hsNsec, err = strconv.ParseInt(string(v), 10, 64)
	case "rx_bytes":
		p.ReceiveBytes, err = strconv.ParseInt(string(v), 10, 64)
	case "tx_bytes":
		p.TransmitBytes, err = strconv.ParseInt(string(v), 10, 64)
	case "persistent_keepalive_interval":
		var n uint64
		n, err = strconv.ParseUint(string(v), 10, 16)
		p.PersistentKeepaliveInterval = time.Duration(n) * time.Second
	case "allowed_ip":
		var pfx netip.Prefix
		if pfx, err = netip.ParsePrefix(string(v)); err == nil {
			p.AllowedIPs = arena.appendNet(p.AllowedIPs, net.IPNet{IP: arena.ip(pfx.Addr()), Mask: cidrMask(pfx.Bits(), pfx.Addr().BitLen())})
		}
	case "protocol_version":
		var n int64
		n, err = strconv.ParseInt(string(v), 10, 32)
		p.ProtocolVersion = int(n)
	}
	return err
}

// uapiSet sends one `set` request built from a wgctrl configuration (the
// same request wg sends: device fields, then per peer public_key, remove or
// preshared_key, endpoint, keepalive, replace_allowed_ips, allowed_ip) and
// returns the device's errno.
func uapiSet(path string, cfg wgtypes.Config, remove [][]netip.Prefix) error {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	defer conn.Close()
	w := bufio.NewWriterSize(conn, 64<<10)
	w.WriteString("set=1\n")
	if cfg.PrivateKey != nil {
		w.WriteString("private_key=" + keys.EncodeHex(*cfg.PrivateKey) + "\n")
	}
	if cfg.ListenPort != nil {
		w.WriteString("listen_port=" + strconv.Itoa(*cfg.ListenPort) + "\n")
	}
	if cfg.FirewallMark != nil {
		w.WriteString("fwmark=" + strconv.Itoa(*cfg.FirewallMark) + "\n")
	}
	if cfg.ReplacePeers {
		w.WriteString("replace_peers=true\n")
	}
	for i, p := range cfg.Peers {
		w.WriteString("public_key=")
		w.Write(keys.AppendPublicHex(w.AvailableBuffer(), p.PublicKey))
		w.WriteByte('\n')
		if p.Remove {
			w.WriteString("remove=true\n")
			continue
		}
		if p.UpdateOnly {
			w.WriteString("update_only=true\n")
		}
		// Values are appended into the writer's buffer: strings built
		// per line were most of the allocations of a syncconf.
		if p.PresharedKey != nil {
			w.WriteString("preshared_key=")
			w.Write(keys.AppendHex(w.AvailableBuffer(), *p.PresharedKey))
			w.WriteByte('\n')
		}
		if p.Endpoint != nil {
			if ap, ok := addrPortRaw(p.Endpoint); ok {
				w.WriteString("endpoint=")
				w.Write(ap.AppendTo(w.AvailableBuffer()))
				w.WriteByte('\n')
			}
		}
		if p.PersistentKeepaliveInterval != nil {
			w.WriteString("persistent_keepalive_interval=")
			w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(*p.PersistentKeepaliveInterval/time.Second), 10))
			w.WriteByte('\n')
		}
		if p.ReplaceAllowedIPs {
			w.WriteString("replace_allowed_ips=true\n")
		}
		// Removals first: a device that does not know `-ADDR` then fails
		// before this peer's additions are made.
		if i < len(remove) {
			for _, pfx := range remove[i] {
				w.WriteString("allowed_ip=-")
				w.Write(pfx.AppendTo(w.AvailableBuffer()))
				w.WriteByte('\n')
			}
		}
		for _, n := range p.AllowedIPs {
			if pfx, ok := Prefix(n); ok {
				w.WriteString("allowed_ip=")
				w.Write(pfx.AppendTo(w.AvailableBuffer()))
				w.WriteByte('\n')
			}
		}
	}
	w.WriteString("\n")
	if err := w.Flush(); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("%w: %v", syscall.EPROTO, err)
	}
	v, ok := bytes.CutPrefix([]byte(line), []byte("errno="))
	if !ok {
		return syscall.EPROTO
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(v)))
	if err != nil {
		return syscall.EPROTO
	}
	if n < 0 {
		// Older wireguard-go releases report errno negated.
		n = -n
	}
	if n != 0 {
		return syscall.Errno(n)
	}
	return nil
}

// addrPortRaw converts an endpoint keeping its family as given: a 4-byte IP
// is IPv4, a 16-byte one IPv6 (so an IPv4-mapped endpoint stays mapped).
func addrPortRaw(u *net.UDPAddr) (netip.AddrPort, bool) {
	a, ok := netip.AddrFromSlice(u.IP)
	if !ok {
		return netip.AddrPort{}, false
	}
	if u.Zone != "" {
		a = a.WithZone(u.Zone)
	}
	return netip.AddrPortFrom(a, uint16(u.Port)), true
}

// allZeroDigits reports whether v is nothing but '0' digits.
func allZeroDigits(v []byte) bool {
	for _, c := range v {
		if c != '0' {
			return false
		}
	}
	return len(v) > 0
}
