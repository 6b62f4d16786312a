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
//   - DNS search domains, which the interface does not report.
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
	for _, m := range merged {
		if lp := livePeer(live, m.Key); lp != nil && !samePrefixSet(m.AllowedIPs, maskedAllowed(lp)) {
			wrong = append(wrong, m.Key)
		}
	}
	return wrong, nil
}

// Line kinds and section kinds of a document.
const (
	kindNone = iota // text before any section
	kindInterface
	kindPeer
)

// doc is a file as lines, each in the section it belongs to, with the
// edits to make to it.
type doc struct {
	body []string // each line without its line end
	end  []string // each line's end: "\n", "\r\n", or "" for an unterminated last line
	nl   string   // the line end of new lines: the file's first
	key  []string // each line's key in its canonical spelling, or ""
	sec  []int    // the section each line is in (index into secs)
	secs []section

	set  map[int]string   // new text of a line
	del  map[int]bool     // lines removed
	ins  map[int][]string // new lines after a line
	head []string         // lines of a new [Interface] section before the first line
	tail []string         // new lines after the last
}

// section is one [Interface] or [Peer] section, or the text before the
// first. Its lines are lead..end-1: lead is the first of the comment lines
// directly above its header (the header when there are none).
type section struct {
	kind       int
	header     int
	lead, end  int
	peer       wgtypes.Key
	peerKeyed  bool
	lastKeyRow int // the last line with a key, or the header
}

// editKeys are every key a file may hold, in their canonical spelling.
var editKeys = append([]string{"PrivateKey", "ListenPort", "FwMark", "PublicKey", "PresharedKey", "AllowedIPs", "Endpoint", "PersistentKeepalive"}, quickKeys...)

func newDoc(data []byte) *doc {
	d := &doc{nl: "\n", set: map[int]string{}, del: map[int]bool{}, ins: map[int][]string{}}
	text := string(data)
	for len(text) > 0 {
		line, end := text, ""
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, end, text = text[:i], "\n", text[i+1:]
		} else {
			text = ""
		}
		if strings.HasSuffix(line, "\r") && end != "" {
			line, end = line[:len(line)-1], "\r\n"
		}
		d.body, d.end = append(d.body, line), append(d.end, end)
	}
	if len(d.end) > 0 && d.end[0] != "" {
		d.nl = d.end[0]
	}
	d.secs = []section{{kind: kindNone}}
	for i, line := range d.body {
		// Lines are read as wg-quick reads them: bash's read drops NULs.
		cl := cleanLine(strings.ReplaceAll(line, "\x00", ""))
		k := ""
		switch {
		case cl.is("[Interface]") || cl.is("[Peer]"):
			kind := kindInterface
			if cl.is("[Peer]") {
				kind = kindPeer
			}
			lead := i
			for lead > 0 && d.sec[lead-1] == len(d.secs)-1 && isComment(d.body[lead-1]) && d.key[lead-1] == "" {
				lead--
			}
			d.secs[len(d.secs)-1].end = lead
			for j := lead; j < i; j++ {
				d.sec[j] = len(d.secs)
			}
			d.secs = append(d.secs, section{kind: kind, header: i, lead: lead, lastKeyRow: i})
		case cl.key != "":
			for _, name := range editKeys {
				if len(name) == len(cl.key) && strings.EqualFold(name, cl.key) {
					k = name
				}
			}
		}
		d.key = append(d.key, k)
		d.sec = append(d.sec, len(d.secs)-1)
		s := &d.secs[len(d.secs)-1]
		if k != "" {
			s.lastKeyRow = i
		}
		if k == "PublicKey" && s.kind == kindPeer {
			if v, ok := keyValue(cl, "PublicKey"); ok {
				if pk, err := parsePublicKey(v); err == nil {
					s.peer, s.peerKeyed = pk, true
				}
			}
		}
	}
	d.secs[len(d.secs)-1].end = len(d.body)
	return d
}

// isComment reports whether a line is a comment: only white space before
// a '#'.
func isComment(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " \t"), "#")
}

// lines returns the lines with key k and a value in the sections secs, in
// file order.
func (d *doc) lines(secs []int, k string) []int {
	var out []int
	for _, s := range secs {
		for i := d.secs[s].header; i < d.secs[s].end; i++ {
			// A line without '=' gives its key as its value (`DNS` alone
			// is a search domain named DNS): nothing to edit in it.
			if d.key[i] == k && !d.del[i] && hasValue(d.body[i]) {
				out = append(out, i)
			}
		}
	}
	return out
}

// hasValue reports whether a line has a '=' before any comment.
func hasValue(line string) bool {
	before, _, _ := strings.Cut(line, "#")
	return strings.Contains(before, "=")
}

// valueSpan is where the value of a key line is: after the '=' and the
// blanks that follow it, up to a comment and the blanks before it.
func valueSpan(line string) (int, int) {
	eq := strings.IndexByte(line, '=')
	if eq < 0 {
		return len(line), len(line)
	}
	vs := eq + 1
	for vs < len(line) && (line[vs] == ' ' || line[vs] == '\t') {
		vs++
	}
	ve := len(line)
	if i := strings.IndexByte(line[vs:], '#'); i >= 0 {
		ve = vs + i
	}
	for ve > vs && isCSpace(line[ve-1]) {
		ve--
	}
	return vs, ve
}

func (d *doc) value(i int) string {
	vs, ve := valueSpan(d.body[i])
	return d.body[i][vs:ve]
}

func (d *doc) setValue(i int, v string) {
	line := d.body[i]
	vs, ve := valueSpan(line)
	d.set[i] = line[:vs] + v + line[ve:]
}

// prefix is a key line's text up to its value ("AllowedIPs = "), for new
// lines written in the same style.
func (d *doc) prefix(i int) string {
	vs, _ := valueSpan(d.body[i])
	return d.body[i][:vs]
}

// setScalar makes key k's value v in the sections secs: the last line
// with k gets v, or a new line after the last key of section into; v ""
// removes every line with k.
func (d *doc) setScalar(secs []int, into int, k, v string) {
	ls := d.lines(secs, k)
	switch {
	case v == "":
		for _, i := range ls {
			d.del[i] = true
		}
	case len(ls) > 0:
		d.setValue(ls[len(ls)-1], v)
	default:
		d.insertKey(into, k+" = "+v)
	}
}

// insertKey adds a line after the last key line of section s.
func (d *doc) insertKey(s int, line string) {
	if s < 0 {
		d.head = append(d.head, line)
		return
	}
	at := d.secs[s].lastKeyRow
	d.ins[at] = append(d.ins[at], line)
}

// list is how a key's lists are split into entries and joined again.
type list struct {
	key   string
	split func(string) []string
	// id is what an entry stands for, compared with live's ("" for an
	// entry that is always kept).
	id func(string) string
}

func splitComma(v string) []string {
	var out []string
	for _, w := range strings.Split(v, ",") {
		if w = deleteSpace(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// separator is the text between a value's first two entries, or ", ".
func separator(v string, entries []string) string {
	if len(entries) < 2 {
		return ", "
	}
	i := strings.Index(v, entries[0]) + len(entries[0])
	j := strings.Index(v[i:], entries[1])
	if i < len(entries[0]) || j <= 0 {
		return ", "
	}
	return v[i : i+j]
}

// editList keeps, on the lines of l.key in secs, the entries whose id is
// in want (or ""), and adds the ids of want no line has. New entries go
// on the last line, or on lines of their own when the file has several
// lines of one entry each; with no line, on a new line in section into.
func (d *doc) editList(secs []int, into int, l list, want []string) {
	have := map[string]bool{}
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w] = true
	}
	ls := d.lines(secs, l.key)
	type kept struct {
		entries []string
		sep     string
		changed bool
	}
	per := make([]kept, len(ls))
	for n, i := range ls {
		v := d.value(i)
		entries := l.split(v)
		per[n].sep = separator(v, entries)
		for _, e := range entries {
			id := l.id(e)
			if id == "" || wanted[id] {
				have[id] = true
				per[n].entries = append(per[n].entries, e)
			} else {
				per[n].changed = true
			}
		}
	}
	var add []string
	for _, w := range want {
		if !have[w] {
			add = append(add, w)
			have[w] = true
		}
	}
	onePerLine := len(ls) > 1 && len(l.split(d.value(ls[len(ls)-1]))) == 1
	if len(ls) > 0 && len(add) > 0 && !onePerLine {
		last := len(per) - 1
		per[last].entries = append(per[last].entries, add...)
		per[last].changed = true
		add = nil
	}
	for n, i := range ls {
		switch {
		case !per[n].changed:
		case len(per[n].entries) == 0:
			d.del[i] = true
		default:
			d.setValue(i, strings.Join(per[n].entries, per[n].sep))
		}
	}
	if len(add) == 0 {
		return
	}
	if len(ls) == 0 {
		d.insertKey(into, l.key+" = "+strings.Join(add, ", "))
		return
	}
	last := ls[len(ls)-1]
	for _, a := range add {
		d.ins[last] = append(d.ins[last], d.prefix(last)+a)
	}
}

// sectionsOf returns the sections of a kind, and for peers of a key.
func (d *doc) sectionsOf(kind int, peer wgtypes.Key) []int {
	var out []int
	for s, sec := range d.secs {
		if sec.kind == kind && (kind != kindPeer || sec.peerKeyed && sec.peer == peer) {
			out = append(out, s)
		}
	}
	return out
}

func (d *doc) editInterface(file, live *Config, opts EditOptions) {
	secs := d.sectionsOf(kindInterface, wgtypes.Key{})
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
	if !sameStrings(addrs, prefixTexts(fi.Addresses)) {
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
	if !sameStrings(dns, fileDNS) {
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

// sameStrings compares two lists as sets.
func sameStrings(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

func samePrefixSet(a, b []netip.Prefix) bool {
	return sameStrings(prefixTexts(a), prefixTexts(b))
}

func livePeer(live *Config, k wgtypes.Key) *Peer {
	for i := range live.Peers {
		if live.Peers[i].PublicKey == k {
			return &live.Peers[i]
		}
	}
	return nil
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
	for _, m := range merged {
		secs := d.sectionsOf(kindPeer, m.Key)
		if len(secs) == 0 {
			return errors.New("no [Peer] section found for peer " + m.Key.String())
		}
		lp := livePeer(live, m.Key)
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
		if !samePrefixSet(m.AllowedIPs, want) {
			d.editList(secs, into, allowedList, prefixTexts(want))
		}
	}
	for _, lp := range live.Peers {
		if !slices.ContainsFunc(merged, func(m *MergedPeer) bool { return m.Key == lp.PublicKey }) {
			d.appendPeer(&lp)
		}
	}
	return nil
}

// replaceAllowed gives peer k one AllowedIPs line, in its last section,
// with live's whole list.
func (d *doc) replaceAllowed(k wgtypes.Key, live *Config) {
	secs := d.sectionsOf(kindPeer, k)
	for _, i := range d.lines(secs, "AllowedIPs") {
		d.del[i] = true
	}
	if lp := livePeer(live, k); lp != nil && len(lp.AllowedIPs) > 0 {
		d.insertKey(secs[len(secs)-1], "AllowedIPs = "+strings.Join(prefixTexts(maskedAllowed(lp)), ", "))
	}
}

// removeSections removes sections with their own comments: the lines
// directly above the header, those among its keys and those directly
// below its last key, with the blank lines that follow. Comments after a
// blank line are kept: they may be about the file, not the peer. The
// blank lines that end the text before a removed last section go with it,
// so that the file does not end in blank lines it did not end in before.
func (d *doc) removeSections(secs []int) {
	for _, s := range secs {
		sec := &d.secs[s]
		own := sec.lastKeyRow + 1
		for own < sec.end && isComment(d.body[own]) {
			own++
		}
		for own < sec.end && strings.TrimSpace(d.body[own]) == "" {
			own++
		}
		for i := sec.lead; i < own; i++ {
			d.del[i] = true
		}
	}
	last := len(d.body)
	for last > 0 && d.del[last-1] {
		last--
	}
	if last == len(d.body) || strings.TrimSpace(d.body[len(d.body)-1]) == "" {
		return
	}
	for last > 0 && strings.TrimSpace(d.body[last-1]) == "" {
		last--
		d.del[last] = true
	}
}

// appendPeer adds a new peer at the end of the file, as showconf writes it.
func (d *doc) appendPeer(p *Peer) {
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

// lastKept is the last line not removed, -1 for none; it is not blank.
func (d *doc) lastKept() int {
	for i := len(d.body) - 1; i >= 0; i-- {
		if !d.del[i] {
			if strings.TrimSpace(d.body[i]) == "" {
				return -1
			}
			return i
		}
	}
	return -1
}

func (d *doc) render() []byte {
	var b strings.Builder
	out := func(line, end string) {
		b.WriteString(line)
		b.WriteString(end)
	}
	if len(d.head) > 0 {
		out("[Interface]", d.nl)
		for _, l := range d.head {
			out(l, d.nl)
		}
		if len(d.body) > 0 {
			out("", d.nl)
		}
	}
	lastOut := -1
	for i := range d.body {
		if !d.del[i] || len(d.ins[i]) > 0 {
			lastOut = i
		}
	}
	for i, line := range d.body {
		more := i < lastOut || len(d.tail) > 0
		if !d.del[i] {
			if v, ok := d.set[i]; ok {
				line = v
			}
			end := d.end[i]
			if end == "" && (more || len(d.ins[i]) > 0) {
				end = d.nl
			}
			out(line, end)
		}
		for _, l := range d.ins[i] {
			out(l, d.nl)
		}
	}
	for _, l := range d.tail {
		out(l, d.nl)
	}
	return []byte(b.String())
}

// RedactSecrets hides the values of PrivateKey and PresharedKey lines, for
// a file shown to the user (save's diff).
func RedactSecrets(data []byte) []byte {
	d := newDoc(data)
	for i, k := range d.key {
		if k == "PrivateKey" || k == "PresharedKey" {
			d.setValue(i, Redacted)
		}
	}
	return d.render()
}
