package config

import (
	"errors"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/keys"
)

// Options tune a parse. The zero value is usable.
type Options struct {
	// File names the input in error messages.
	File string
	// Warn receives warnings that do not stop the parse, with their line
	// (wg's "AllowedIP has nonzero host part"). Nil discards them.
	Warn func(line int, msg string)
	// Services resolves service names in ports; nil means /etc/services.
	Services ServiceLookup
}

func (o *Options) errorf(line int, err error, msg string) *ParseError {
	return &ParseError{File: o.File, Line: line, Msg: msg, Err: err}
}

// ParseWG parses a configuration in wg(8)'s own dialect, the one setconf,
// addconf and syncconf read: no wg-quick keys.
func ParseWG(data []byte, opts Options) (*Config, error) {
	// One conversion for the whole input; lines are substrings of it.
	return ParseWGString(string(data), opts)
}

// ParseWGString is ParseWG on text already in a string, such as
// ReadFileString's: the parse then copies nothing of it.
func ParseWGString(text string, opts Options) (*Config, error) {
	p := newWGParser(&opts, text)
	n := 0
	for len(text) > 0 {
		n++
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		// wg handles each line as a C string: a NUL byte ends it.
		if i := strings.IndexByte(line, 0); i >= 0 {
			line = line[:i]
		}
		if err := p.line(n, line); err != nil {
			return nil, err
		}
	}
	return p.finish()
}

// wgParser holds the state of wg's line-by-line parse (config.c's
// config_ctx): which section we are in and the peer being filled.
type wgParser struct {
	opts    *Options
	cfg     *Config
	section int // sectionNone, sectionInterface or sectionPeer
	// havePub records whether the open [Peer] section had a PublicKey.
	havePub bool
	// keyless is the line of the first [Peer] section without a
	// PublicKey (0: none yet). Such a section makes the file invalid, so
	// it is not kept: only sections with a key, at least 61 bytes each,
	// take memory, which bounds the peers a file can make allocate.
	keyless int
}

// newWGParser starts a parse of text. The peer list is sized once from
// the number of '[' in the text, so that 10,000 sections do not copy the
// list a dozen times as it grows (for a short-lived wg, whose collector
// never runs, every copy is memory touched and kept: 0.3 MB at 2,000
// peers). The count is bounded by one peer per minPeerSection bytes, the
// least a kept section takes, so that a file of brackets cannot reserve
// more than a small multiple of its size before its first line is judged.
func newWGParser(opts *Options, text string) *wgParser {
	n := min(strings.Count(text, "["), len(text)/minPeerSection)
	return &wgParser{opts: opts, cfg: &Config{Peers: make([]Peer, 0, n)}}
}

// minPeerSection is the fewest bytes a kept [Peer] section takes: its
// header and a PublicKey line ("[Peer]\nPublicKey=" and 44 characters of
// key).
const minPeerSection = len("[Peer]\nPublicKey=") + 44

// cleanedLine is a line as wg looks at it: cut at its first '#', with
// every white-space character deleted. It is kept as the parts before and
// after its first '=' (eq says there is one): deleting the spaces of
// "Key = Value" then takes no new string, only two substrings, where
// building "Key=Value" cost an allocation per line of every file.
type cleanedLine struct {
	key, value string
	eq         bool
}

func cleanLine(s string) cleanedLine {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, '='); i >= 0 {
		return cleanedLine{key: deleteSpace(s[:i]), value: deleteSpace(s[i+1:]), eq: true}
	}
	return cleanedLine{key: deleteSpace(s)}
}

// String is the cleaned line whole, for messages.
func (l cleanedLine) String() string {
	if l.eq {
		return l.key + "=" + l.value
	}
	return l.key
}

// is reports whether the line is exactly the section header h, in any case.
func (l cleanedLine) is(h string) bool { return !l.eq && strings.EqualFold(l.key, h) }

// deleteSpace deletes every white-space character of s; only when s has
// some inside (AllowedIPs lists do) does it build a new string.
func deleteSpace(s string) string {
	for len(s) > 0 && isCSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isCSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	inner := false
	for i := 0; i < len(s) && !inner; i++ {
		inner = isCSpace(s[i])
	}
	if !inner {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if !isCSpace(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// keyValue matches wg's get_value: the cleaned line must start with the key
// name (any case) and '=', and at least one character must follow. The
// lengths are compared first, as wg compares bytes: a key spelt with a
// non-ASCII letter that folds to the same one is not the key.
func keyValue(line cleanedLine, key string) (string, bool) {
	if !line.eq || line.value == "" || len(line.key) != len(key) || !strings.EqualFold(line.key, key) {
		return "", false
	}
	return line.value, true
}

const (
	sectionNone = iota
	sectionInterface
	sectionPeer
)

func (p *wgParser) line(n int, raw string) error {
	line := cleanLine(raw)
	if !line.eq && line.key == "" {
		return nil
	}
	switch {
	case line.is("[Interface]"):
		p.closePeer()
		p.section = sectionInterface
		return nil
	case line.is("[Peer]"):
		p.closePeer()
		p.cfg.Peers = append(p.cfg.Peers, Peer{Line: n, ReplaceAllowedIPs: true})
		p.havePub = false
		p.section = sectionPeer
		return nil
	}
	err := p.keyLine(n, line)
	if err == errUnrecognized {
		pe := p.opts.errorf(n, ErrLineUnrecognized, "Line unrecognized: "+quote(line.String()))
		if strings.HasPrefix(line.key, "\uFEFF") {
			pe.Hint = "the file starts with a UTF-8 byte order mark; save it without one"
		} else if p.section == sectionNone {
			pe.Hint = "a key before any [Interface] or [Peer] section"
		}
		return pe
	}
	if err != nil {
		return p.opts.errorf(n, err, err.Error())
	}
	return nil
}

var errUnrecognized = errors.New("unrecognized")

func (p *wgParser) keyLine(n int, line cleanedLine) error {
	ifc := &p.cfg.Interface
	switch p.section {
	case sectionInterface:
		if v, ok := keyValue(line, "ListenPort"); ok {
			port, err := ParsePort(v, p.opts.Services)
			if err != nil {
				return err
			}
			ifc.ListenPort = &port
		} else if v, ok := keyValue(line, "FwMark"); ok {
			m, err := ParseFwMark(v)
			if err != nil {
				return err
			}
			ifc.FwMark = &m
		} else if v, ok := keyValue(line, "PrivateKey"); ok {
			k, err := parseKey(v)
			if err != nil {
				return err
			}
			ifc.PrivateKey = &k
		} else {
			return errUnrecognized
		}
	case sectionPeer:
		peer := &p.cfg.Peers[len(p.cfg.Peers)-1]
		if v, ok := keyValue(line, "Endpoint"); ok {
			e, err := ParseEndpoint(v, p.opts.Services)
			if err != nil {
				return err
			}
			peer.Endpoint = e
		} else if v, ok := keyValue(line, "PublicKey"); ok {
			k, err := parsePublicKey(v)
			if err != nil {
				return err
			}
			peer.PublicKey = k
			p.havePub = true
		} else if v, ok := keyValue(line, "AllowedIPs"); ok {
			var warn func(string)
			if p.opts.Warn != nil {
				warn = func(msg string) { p.opts.Warn(n, msg) }
			}
			ips, replace, err := ParseAllowedIPs(v, warn)
			if err != nil {
				return err
			}
			// Each AllowedIPs line sets "replace" again, and any +/- entry in
			// it clears it, exactly as wg's flags behave.
			peer.ReplaceAllowedIPs = replace
			if peer.AllowedIPs == nil {
				peer.AllowedIPs = ips // the usual single line: no copy
			} else {
				peer.AllowedIPs = append(peer.AllowedIPs, ips...)
			}
		} else if v, ok := keyValue(line, "PersistentKeepalive"); ok {
			ka, err := ParseKeepalive(v)
			if err != nil {
				return err
			}
			peer.PersistentKeepalive = &ka
		} else if v, ok := keyValue(line, "PresharedKey"); ok {
			k, err := parseKey(v)
			if err != nil {
				return err
			}
			peer.PresharedKey = &k
		} else {
			return errUnrecognized
		}
	default:
		return errUnrecognized
	}
	return nil
}

func parseKey(v string) (wgtypes.Key, error) {
	k, err := keys.Parse(v)
	if err != nil {
		return wgtypes.Key{}, keyError(v)
	}
	return k, nil
}

// parsePublicKey is parseKey for a peer's public key, which is not secret
// and so need not be decoded in constant time.
func parsePublicKey(v string) (wgtypes.Key, error) {
	k, err := keys.ParsePublic(v)
	if err != nil {
		return wgtypes.Key{}, keyError(v)
	}
	return k, nil
}

func keyError(v string) error {
	return errors.New("Key is not the correct length or format: " + quote(v))
}

// finish checks what wg checks once the whole file is read.
func (p *wgParser) finish() (*Config, error) {
	p.closePeer()
	if p.keyless != 0 {
		return nil, p.opts.errorf(p.keyless, ErrMissingPublicKey, ErrMissingPublicKey.Error())
	}
	return p.cfg, nil
}

// closePeer ends the open [Peer] section, if any: one without a PublicKey
// is noted (the first one's line is the error finish reports, as wg
// reports a missing key only once the whole file is read) and dropped.
func (p *wgParser) closePeer() {
	if p.section != sectionPeer || p.havePub {
		return
	}
	if p.keyless == 0 {
		p.keyless = p.cfg.Peers[len(p.cfg.Peers)-1].Line
	}
	p.cfg.Peers = p.cfg.Peers[:len(p.cfg.Peers)-1]
	p.havePub = true // closed
}
