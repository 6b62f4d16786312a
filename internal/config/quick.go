package config

import (
	"errors"
	"math"
	"net/netip"
	"strings"
)

// Directive is one line that wg-quick consumes itself rather than passing
// to wg: Address, DNS, MTU, Table, a hook or SaveConfig inside [Interface].
type Directive struct {
	Line int
	// Key is the canonical spelling (Address, DNS, MTU, Table, PreUp,
	// PostUp, PreDown, PostDown, SaveConfig), whatever case the file used.
	Key string
	// Value is the text after the first '=', cut at '#' and trimmed.
	Value string
	// Raw is the text after the first '=' with any comment kept, trimmed.
	// Hooks use it: upstream wg-quick passes `#…` on to bash.
	Raw string
}

// quickKeys are the keys wg-quick consumes inside [Interface].
var quickKeys = []string{"Address", "MTU", "DNS", "Table", "PreUp", "PreDown", "PostUp", "PostDown", "SaveConfig"}

// isIFSSpace is bash's default IFS white space, which `read` trims.
func isIFSSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// Directives returns the lines wg-quick consumes itself (see lex), without
// listing the lines it hands to wg.
func Directives(data []byte, opts Options) ([]Directive, error) {
	var ds []Directive
	err := lex(data, &opts, func(int, string) error { return nil }, func(d Directive) error {
		ds = append(ds, d)
		return nil
	})
	return ds, err
}

// Strip is what `wg-quick strip` prints for a file: the lines lex hands to
// wg, each with a newline, then one more newline; built as the file is
// read, without a list of its lines (a file of short lines would make that
// list many times the file's size).
func Strip(data []byte, opts Options) ([]byte, error) {
	out := make([]byte, 0, len(data)+1)
	err := lex(data, &opts, func(_ int, line string) error {
		out = append(append(out, line...), '\n')
		return nil
	}, func(Directive) error { return nil })
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// lex runs wg-quick's lexical pass over a file, handing each line for wg
// (1-based number, trimmed text) or each directive to its callback in file
// order; it stops at the first error, a callback's or its own. Its own is
// the one wg-quick itself reports while reading: a SaveConfig value that
// is neither true nor false.
//
// The rules follow parse_options in wg-quick's linux.bash:
//   - each line is trimmed of spaces and tabs at both ends (bash `read -r`;
//     a CR stays, so CRLF lines reach wg with their CR, which wg deletes);
//   - the key is the text before the first '=' of the line cut at '#',
//     trimmed of all white space including CR; keys match in any case;
//   - a key starting with '[' leaves [Interface]; exactly `[Interface]` (any
//     case, but no inner spaces) enters it;
//   - inside [Interface] the wg-quick keys are consumed; every other line,
//     blank and comment lines included, goes to wg unchanged.
func lex(data []byte, opts *Options, wg func(n int, line string) error, directive func(Directive) error) error {
	inInterface := false
	// One conversion for the whole input; lines are substrings of it.
	text := string(data)
	n := 0
	for len(text) > 0 {
		n++
		var raw string
		last := false
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			raw, text = text[:i], text[i+1:]
		} else {
			raw, text, last = text, "", true
		}
		// bash drops NUL bytes from what `read` returns.
		if strings.IndexByte(raw, 0) >= 0 {
			raw = strings.ReplaceAll(raw, "\x00", "")
		}
		line := strings.TrimFunc(raw, func(r rune) bool { return r < 0x80 && isIFSSpace(byte(r)) })
		if last && line == "" {
			break // an unterminated, blank last line is not read
		}
		stripped, _, _ := strings.Cut(line, "#")
		key, value, _ := strings.Cut(stripped, "=")
		if !strings.Contains(stripped, "=") {
			value = stripped
		}
		raw2 := line
		if _, after, ok := strings.Cut(line, "="); ok {
			raw2 = after
		}
		key, value, raw2 = trimCSpace(key), trimCSpace(value), trimCSpace(raw2)
		if strings.HasPrefix(key, "[") {
			inInterface = false
		}
		if strings.EqualFold(key, "[Interface]") {
			inInterface = true
		}
		if inInterface {
			if canon := canonicalQuickKey(key); canon != "" {
				if canon == "SaveConfig" && !strings.EqualFold(value, "true") && !strings.EqualFold(value, "false") {
					return opts.errorf(n, nil, quote(value)+" is neither true nor false")
				}
				if err := directive(Directive{Line: n, Key: canon, Value: value, Raw: raw2}); err != nil {
					return err
				}
				continue
			}
		}
		if err := wg(n, line); err != nil {
			return err
		}
	}
	return nil
}

func trimCSpace(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r < 0x80 && isCSpace(byte(r)) })
}

func canonicalQuickKey(key string) string {
	for _, k := range quickKeys {
		if strings.EqualFold(key, k) {
			return k
		}
	}
	return ""
}

// ParseQuick parses a wg-quick configuration file: wg-quick's own keys are
// validated here, where the reference would only fail half-way through `up`
// (an Address that ip(8) rejects, an MTU that is not a number), and the rest
// is parsed with wg's grammar. The first error in line order is returned.
func ParseQuick(data []byte, opts Options) (*Config, error) {
	// Peers come from wg-quick's files by the thousand far less often than
	// from setconf's; the list grows as sections come.
	p := newWGParser(&opts, "")
	ifc := &p.cfg.Interface
	err := lex(data, &opts, p.line, func(d Directive) error {
		if err := applyDirective(ifc, d); err != nil {
			return opts.errorf(d.Line, err, err.Error())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p.finish()
}

// isDNSServer is wg-quick's test for "this DNS entry is a server, not a
// search domain": the regular expression (^[0-9.]+$)|(^.*:.*$), written out
// so that no program linking this package compiles a regexp at start-up
// (a word never holds a newline, the one character `.` would not match).
func isDNSServer(w string) bool {
	return strings.Contains(w, ":") || (w != "" && strings.Trim(w, "0123456789.") == "")
}

// words splits a value as bash splits an unquoted expansion after wg-quick
// turned commas into spaces. (bash would also expand glob patterns; no valid
// address or domain contains one, so we do not.)
func words(v string) []string {
	return strings.FieldsFunc(strings.ReplaceAll(v, ",", " "), func(r rune) bool { return r < 0x80 && isIFSSpace(byte(r)) })
}

func applyDirective(ifc *Interface, d Directive) error {
	switch d.Key {
	case "Address":
		for _, w := range words(d.Value) {
			p, err := ParseAddress(w)
			if err != nil {
				return err
			}
			ifc.Addresses = append(ifc.Addresses, p)
			ifc.AddressText = append(ifc.AddressText, w)
		}
	case "DNS":
		for _, w := range words(d.Value) {
			if !isDNSServer(w) {
				ifc.DNSSearch = append(ifc.DNSSearch, w)
				continue
			}
			a, err := netip.ParseAddr(w)
			if err != nil {
				return errors.New("DNS server is not an IP address: " + quote(w))
			}
			ifc.DNS = append(ifc.DNS, a)
		}
	case "MTU":
		ifc.MTU = 0
		if d.Value != "" {
			// The link decides the upper bound, not the file: a kernel
			// WireGuard link takes MTUs far above 65535 (ip(8) passes
			// them on and so does the reference), a TUN device refuses
			// them when the MTU is set. The kernel's MTU is an int.
			v, ok := decimal(d.Value, math.MaxInt32)
			if !ok || v == 0 {
				return errors.New("MTU is not a number from 1 to 2147483647: " + quote(d.Value))
			}
			ifc.MTU = int(v)
		}
	case "Table":
		if err := checkTable(d.Value); err != nil {
			return err
		}
		ifc.Table = d.Value
	case "PreUp":
		ifc.PreUp = append(ifc.PreUp, d.Raw)
	case "PostUp":
		ifc.PostUp = append(ifc.PostUp, d.Raw)
	case "PreDown":
		ifc.PreDown = append(ifc.PreDown, d.Raw)
	case "PostDown":
		ifc.PostDown = append(ifc.PostDown, d.Raw)
	case "SaveConfig":
		ifc.SaveConfig = strings.EqualFold(d.Value, "true")
	}
	return nil
}

// ParseAddress parses one Address entry: an IP address with an optional
// prefix length (none means a host address, /32 or /128).
func ParseAddress(s string) (netip.Prefix, error) {
	bad := errors.New("Address is not an IP address with an optional /prefix length: " + quote(s))
	addrText, bitsText, hasBits := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addrText)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, bad
	}
	bits := a.BitLen()
	if hasBits {
		v, ok := decimal(bitsText, uint64(bits))
		if !ok {
			return netip.Prefix{}, bad
		}
		bits = int(v)
	}
	return netip.PrefixFrom(a, bits), nil
}

// checkTable accepts what wg-quick and ip(8) accept for Table: empty or
// auto (routes in main, full tunnels in their own table), off, a table
// number, or a name to look up in rt_tables when the interface comes up.
// auto and off are case-sensitive, as in wg-quick, which compares them after
// it has turned case-insensitive matching off again: `OFF` is a table name.
func checkTable(v string) error {
	switch {
	case v == "" || v == "auto" || v == "off":
		return nil
	case v[0] >= '0' && v[0] <= '9':
		if _, ok := decimal(v, math.MaxUint32); !ok {
			return errors.New("Table is not a number from 0 to 4294967295: " + quote(v))
		}
		return nil
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return errors.New("Table is neither auto, off, a number nor a table name: " + quote(v))
		}
	}
	return nil
}
