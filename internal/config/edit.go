package config

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/keys"
)

// EditOptions tune Edit.
type EditOptions struct {
	// File names the file in error messages.
	File string
	// Services resolves service names in ports; nil means /etc/services.
	Services ServiceLookup
	// AutoFwMark is the fwmark wg-quick gave the device for a full tunnel
	// (0: none). A file without FwMark stays without one while the device
	// has this mark: it is wg-quick's choice, made again at every up.
	AutoFwMark uint32
}

// Edit returns a configuration file changed in place to describe a running
// interface, for `wg-quick save` and SaveConfig. Only what differs between
// the file and live changes, and a file that already describes live comes
// back byte for byte: comments, blank lines, the order of lines, the
// spelling and spacing of keys and values, hooks, Table and SaveConfig are
// kept.
//
// live holds what the interface holds: the private key, listen port,
// fwmark and peers of the device (one per key, AllowedIPs masked as the
// device keeps them), the link's addresses, the DNS servers in force and,
// when the file sets MTU, the link's MTU (0: not compared). What changes:
//
//   - a value that differs is written over the value of the line that gives
//     it (the last such line), keeping the key's spelling, the spaces and
//     any comment after it; a value that is gone takes its lines with it;
//   - a list (Address, DNS servers, AllowedIPs) loses the entries that are
//     gone from their lines, a line left empty is removed, and new entries
//     go on the list's last line, or on lines of their own when the file
//     writes one entry per line;
//   - a peer that is gone is removed with its section and the comment lines
//     directly above its header; a new peer is appended as a [Peer]
//     section in showconf's form.
//
// Some differences are not written, because the interface does not say
// the user made them:
//   - ListenPort, when the file has none or 0: the port was chosen at
//     random;
//   - FwMark, when the file has none and the device's mark is AutoFwMark;
//   - an Endpoint, when the file has none (the peer's address was learnt
//     from its packets: a server's file stays a server's) or gives a host
//     name (the name is what the user wants resolved; see `wg-quick
//     reresolve`);
//   - an IPv6 link-local address the file does not give (the kernel adds
//     one to a link by itself);
//   - DNS search domains, which the interface does not report, and DNS
//     servers when none is in force (resolvconf may be unable to list
//     them).
func Edit(data []byte, live *Config, opts EditOptions) ([]byte, error) {
	file, err := ParseQuick(data, Options{File: opts.File, Services: opts.Services})
	if err != nil {
		return nil, err
	}
	merged, err := MergePeers(file)
	if err != nil {
		return nil, &ParseError{File: opts.File, Msg: err.Error(), Err: err}
	}
	d := newDoc(data)
	d.editInterface(file, live, opts)
	if err := d.editPeers(merged, live); err != nil {
		return nil, &ParseError{File: opts.File, Msg: err.Error(), Err: err}
	}
	out := d.render()
	if !d.peersEdited {
		return out, nil
	}
	// Duplicate [Peer] sections of one key can hold an entry that an
	// entry-by-entry edit keeps but a later section's list replaces: check
	// the result as the device would read it, and give any peer that
	// still differs one AllowedIPs line with its whole list.
	wrong, err := allowedMismatch(out, live, opts)
	if err != nil || len(wrong) == 0 {
		return out, err
	}
	d = newDoc(data)
	d.editInterface(file, live, opts)
	_ = d.editPeers(merged, live) // it worked the first time
	for _, k := range wrong {
		d.replaceAllowed(k, live)
	}
	out = d.render()
	if wrong, err = allowedMismatch(out, live, opts); err == nil && len(wrong) > 0 {
		err = &ParseError{File: opts.File, Msg: "the edited file would not give peer " + wrong[0].String() + " its AllowedIPs"}
	}
	return out, err
}

// allowedMismatch lists the peers whose AllowedIPs in text differ from
// live's.
func allowedMismatch(text []byte, live *Config, opts EditOptions) ([]wgtypes.Key, error) {
	cfg, err := ParseQuick(text, Options{File: opts.File, Services: opts.Services})
	if err != nil {
		return nil, err
	}
	merged, err := MergePeers(cfg)
	if err != nil {
		return nil, err
	}
	var wrong []wgtypes.Key
	byKey := livePeers(live)
	for _, m := range merged {
		if lp := byKey[m.Key]; lp != nil && !sameSet(m.AllowedIPs, maskedAllowed(lp)) {
			wrong = append(wrong, m.Key)
		}
	}
	return wrong, nil
}

func (d *doc) editInterface(file, live *Config, opts EditOptions) {
	secs := d.interfaceSections()
	into := -1 // a new [Interface] section at the top
	if len(secs) > 0 {
		into = secs[0]
	}
	fi, li := &file.Interface, &live.Interface
	if present(fi.PrivateKey) != present(li.PrivateKey) || present(li.PrivateKey) && *fi.PrivateKey != *li.PrivateKey {
		v := ""
		if present(li.PrivateKey) {
			v = keys.Encode(*li.PrivateKey)
		}
		d.setScalar(secs, into, "PrivateKey", v)
	}
	if fi.ListenPort != nil && *fi.ListenPort != 0 {
		lp := 0
		if li.ListenPort != nil {
			lp = *li.ListenPort
		}
		if lp != *fi.ListenPort {
			v := ""
			if lp != 0 {
				v = strconv.Itoa(lp)
			}
			d.setScalar(secs, into, "ListenPort", v)
		}
	}
	fm, lm := deref(fi.FwMark), deref(li.FwMark)
	if fm != lm && !(fi.FwMark == nil && lm == opts.AutoFwMark) {
		v := ""
		if lm != 0 {
			v = "0x" + strconv.FormatUint(uint64(lm), 16)
		}
		d.setScalar(secs, into, "FwMark", v)
	}
	var addrs []string
	for _, a := range li.Addresses {
		if a.Addr().Is6() && a.Addr().IsLinkLocalUnicast() && !slices.Contains(fi.Addresses, a) {
			continue
		}
		addrs = append(addrs, formatPrefix(a))
	}
	if !sameSet(addrs, prefixTexts(fi.Addresses)) {
		d.editList(secs, into, list{key: "Address", split: words, id: func(w string) string {
			p, err := ParseAddress(w)
			if err != nil {
				return ""
			}
			return formatPrefix(p)
		}}, addrs)
	}
	var dns []string
	for _, a := range li.DNS {
		dns = append(dns, formatAddr(a))
	}
	var fileDNS []string
	for _, a := range fi.DNS {
		fileDNS = append(fileDNS, formatAddr(a))
	}
	// No server in force is taken for "not known" (a resolvconf that
	// cannot list them, as systemd's cannot), not for servers removed.
	if len(dns) > 0 && !sameSet(dns, fileDNS) {
		d.editList(secs, into, list{key: "DNS", split: words, id: func(w string) string {
			if !isDNSServer(w) {
				return ""
			}
			a, err := netip.ParseAddr(w)
			if err != nil {
				return ""
			}
			return formatAddr(a)
		}}, dns)
	}
	if fi.MTU != 0 && li.MTU != 0 && fi.MTU != li.MTU {
		d.setScalar(secs, into, "MTU", strconv.Itoa(li.MTU))
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func prefixTexts(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = formatPrefix(p)
	}
	return out
}

// sameSet compares two lists as sets, in time linear in their lengths (a
// peer may route thousands of prefixes).
func sameSet[T comparable](a, b []T) bool {
	inA := make(map[T]bool, len(a))
	for _, x := range a {
		inA[x] = true
	}
	inB := make(map[T]bool, len(b))
	for _, x := range b {
		if !inA[x] {
			return false
		}
		inB[x] = true
	}
	return len(inA) == len(inB)
}

// livePeers indexes live's peers by key.
func livePeers(live *Config) map[wgtypes.Key]*Peer {
	m := make(map[wgtypes.Key]*Peer, len(live.Peers))
	for i := range live.Peers {
		m[live.Peers[i].PublicKey] = &live.Peers[i]
	}
	return m
}

func maskedAllowed(p *Peer) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(p.AllowedIPs))
	for _, a := range p.AllowedIPs {
		out = append(out, a.Prefix.Masked())
	}
	return out
}

var allowedList = list{key: "AllowedIPs", split: splitComma, id: func(w string) string {
	w = strings.TrimPrefix(w, "+")
	p, err := netip.ParsePrefix(w)
	if err != nil {
		a, err := netip.ParseAddr(w)
		if err != nil {
			return ""
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return formatPrefix(p.Masked())
}}

func (d *doc) editPeers(merged []*MergedPeer, live *Config) error {
	byKey := livePeers(live)
	inFile := make(map[wgtypes.Key]bool, len(merged))
	for _, m := range merged {
		inFile[m.Key] = true
		secs := d.peerSecs[m.Key]
		if len(secs) == 0 {
			return errors.New("no [Peer] section found for peer " + m.Key.String())
		}
		lp := byKey[m.Key]
		if lp == nil {
			d.removeSections(secs)
			continue
		}
		into := secs[len(secs)-1]
		if psk := deref(lp.PresharedKey); psk != m.PSK {
			v := ""
			if psk != (wgtypes.Key{}) {
				v = keys.Encode(psk)
			}
			d.setScalar(secs, into, "PresharedKey", v)
		}
		if ka := deref(lp.PersistentKeepalive); ka != m.Keepalive {
			v := ""
			if ka != 0 {
				v = strconv.Itoa(ka)
			}
			d.setScalar(secs, into, "PersistentKeepalive", v)
		}
		if fe, le := m.Endpoint, lp.Endpoint; fe != nil && fe.Addr.IsValid() && le != nil && le.Addr.IsValid() {
			if fa, _ := fe.AddrPort(); fa != netip.AddrPortFrom(le.Addr, le.Port) {
				d.setScalar(secs, into, "Endpoint", le.String())
			}
		}
		want := maskedAllowed(lp)
		if !sameSet(m.AllowedIPs, want) {
			d.editList(secs, into, allowedList, prefixTexts(want))
			d.peersEdited = true
		}
	}
	for _, lp := range live.Peers {
		if !inFile[lp.PublicKey] {
			d.appendPeer(&lp)
		}
	}
	return nil
}

// replaceAllowed gives peer k one AllowedIPs line, in its last section,
// with live's whole list.
func (d *doc) replaceAllowed(k wgtypes.Key, live *Config) {
	secs := d.peerSecs[k]
	for _, i := range d.lines(secs, "AllowedIPs") {
		d.del[i] = true
	}
	if lp := livePeers(live)[k]; lp != nil && len(lp.AllowedIPs) > 0 {
		d.insertKey(secs[len(secs)-1], "AllowedIPs = "+strings.Join(prefixTexts(maskedAllowed(lp)), ", "))
	}
}

// appendPeer adds a new peer at the end of the file, as showconf writes it.
func (d *doc) appendPeer(p *Peer) {
	d.peersEdited = true
	c := &Config{Peers: []Peer{*p}}
	c.Peers[0].AllowedIPs = nil
	for _, a := range maskedAllowed(p) {
		c.Peers[0].AllowedIPs = append(c.Peers[0].AllowedIPs, AllowedIP{Prefix: a})
	}
	text := string(Showconf(c))
	_, text, _ = strings.Cut(text, "\n\n") // past the empty [Interface]
	if d.lastKept() >= 0 || len(d.tail) > 0 {
		d.tail = append(d.tail, "")
	}
	d.tail = append(d.tail, strings.Split(strings.TrimSuffix(text, "\n"), "\n")...)
}
