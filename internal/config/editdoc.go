package config

import (
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// editdoc.go holds the line model Edit works on: a file as lines in
// sections, edits recorded against line numbers, and the text rendered
// back with every untouched line as it was.

// Section kinds of a document.
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
	// peerSecs are the sections of each peer's key, in file order.
	peerSecs map[wgtypes.Key][]int
	// peersEdited says an AllowedIPs list was edited entry by entry or
	// a peer was removed or added, which can change what other peers'
	// lists give them: Edit then checks the result (see there).
	peersEdited bool

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
	d.peerSecs = map[wgtypes.Key][]int{}
	for i, sec := range d.secs {
		if sec.kind == kindPeer && sec.peerKeyed {
			d.peerSecs[sec.peer] = append(d.peerSecs[sec.peer], i)
		}
	}
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

// interfaceSections returns the [Interface] sections, in file order.
func (d *doc) interfaceSections() []int {
	var out []int
	for s, sec := range d.secs {
		if sec.kind == kindInterface {
			out = append(out, s)
		}
	}
	return out
}

// removeSections removes sections with their own comments: the lines
// directly above the header, those among its keys and those directly
// below its last key, with the blank lines that follow. Comments after a
// blank line are kept: they may be about the file, not the peer. The
// blank lines that end the text before a removed last section go with it,
// so that the file does not end in blank lines it did not end in before.
func (d *doc) removeSections(secs []int) {
	d.peersEdited = true
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

// RedactSecrets hides the secrets of a file shown to the user (save's
// diff): the values of PrivateKey and PresharedKey lines, and on every
// other line but PublicKey's, whatever Redact would take for a key (a key
// pasted into a comment or a hook). Public keys stay: they name the peers.
func RedactSecrets(data []byte) []byte {
	d := newDoc(data)
	for i, k := range d.key {
		switch k {
		case "PrivateKey", "PresharedKey":
			d.setValue(i, Redacted)
		case "PublicKey":
			// The key names the peer; a comment after it is hidden as any.
			line := d.body[i]
			_, ve := valueSpan(line)
			if h := hideKeys(line[ve:]); h != line[ve:] {
				d.set[i] = line[:ve] + h
			}
		default:
			if h := hideKeys(d.body[i]); h != d.body[i] {
				d.set[i] = h
			}
		}
	}
	return d.render()
}
