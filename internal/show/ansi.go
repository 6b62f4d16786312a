package show

import "bytes"

// ANSI escape sequences used by wg's pretty output (terminal.h).
const (
	reset    = "\x1b[0m"
	bold     = "\x1b[1m"
	fgRed    = "\x1b[31m"
	fgGreen  = "\x1b[32m"
	fgYellow = "\x1b[33m"
	fgCyan   = "\x1b[36m"
)

// chunkWriter collects pretty output the way wg's terminal_printf emits it:
// text is formatted with escape sequences in units ("chunks", one per
// terminal_printf call), and in non-colour mode each chunk is filtered on its
// own. Filtering per chunk rather than over the whole output matters only for
// the edge cases of stripANSI (a sequence left open at the end of a chunk is
// not continued into the next one).
type chunkWriter struct {
	buf   bytes.Buffer
	color bool
}

// chunk appends the concatenation of parts as one chunk.
func (c *chunkWriter) chunk(parts ...string) {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	if !c.color {
		b = stripANSI(b)
	}
	c.buf.Write(b)
}

// stripANSI removes escape sequences from one chunk exactly as wg's
// filter_ansi does, and returns the result (b is modified).
//
// A sequence is ESC '[' followed by everything up to and including the next
// ASCII letter, or up to the end of the chunk if no letter follows. This is
// deliberately not a proper CSI parser: it also eats escape-like text inside
// interface names, and a sequence whose ESC is one of the last two bytes of
// the chunk is left alone, because the C loop stops two bytes early. As in
// the C code, removed bytes are first overwritten with NUL and every NUL is
// dropped at the end.
func stripANSI(b []byte) []byte {
	n := len(b)
	for i := 0; i+2 < n; i++ {
		if b[i] != 0x1b || b[i+1] != '[' {
			continue
		}
		b[i], b[i+1] = 0, 0
		j := i + 2
		for ; j < n && !isASCIILetter(b[j]); j++ {
			b[j] = 0
		}
		if j < n {
			b[j] = 0
		}
	}
	out := b[:0]
	for _, c := range b {
		if c != 0 {
			out = append(out, c)
		}
	}
	return out
}

// isASCIILetter reports whether c is in A-Z or a-z; wg's char_is_alpha is
// locale-independent and never matches bytes >= 0x80.
func isASCIILetter(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z'
}

// plain returns s with escape sequences removed as by stripANSI, for
// formatting helpers whose result is used outside a chunk.
func plain(s string) string {
	return string(stripANSI([]byte(s)))
}
