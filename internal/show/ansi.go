package show

import "io"

// ANSI escape sequences used by wg's pretty output (terminal.h).
const (
	reset    = "\x1b[0m"
	bold     = "\x1b[1m"
	fgRed    = "\x1b[31m"
	fgGreen  = "\x1b[32m"
	fgYellow = "\x1b[33m"
	fgCyan   = "\x1b[36m"
)

// chunkWriter writes pretty output the way wg's terminal_printf emits it:
// text is formatted with escape sequences in units ("chunks", one per
// terminal_printf call), and in non-colour mode each chunk is filtered on its
// own. Filtering per chunk rather than over the whole output matters only for
// the edge cases of stripANSI (a sequence left open at the end of a chunk is
// not continued into the next one).
//
// Chunks are appended to one buffer, filtered where they lie, and the buffer
// goes out whenever it passes flushAt: the memory used does not grow with
// the number of peers (a device of 10,000 peers is a megabyte of text), and
// no chunk is allocated on its own.
type chunkWriter struct {
	w     io.Writer
	buf   []byte
	color bool
	err   error // the first write error; later chunks are dropped
}

// flushAt is the buffered size at which a chunkWriter writes out: large
// enough that a pipe or terminal sees few writes, small against the
// process's own memory.
const flushAt = 32 << 10

func newChunkWriter(w io.Writer, color bool) *chunkWriter {
	return &chunkWriter{w: w, buf: make([]byte, 0, flushAt+4096), color: color}
}

// chunk appends the concatenation of parts as one chunk.
func (c *chunkWriter) chunk(parts ...string) {
	start := len(c.buf)
	for _, p := range parts {
		c.buf = append(c.buf, p...)
	}
	if !c.color {
		c.buf = c.buf[:start+len(stripANSI(c.buf[start:]))]
	}
	if len(c.buf) >= flushAt {
		c.flush()
	}
}

// flush writes out what is buffered and returns the first error any write
// had.
func (c *chunkWriter) flush() error {
	if len(c.buf) > 0 && c.err == nil {
		_, c.err = c.w.Write(c.buf)
	}
	c.buf = c.buf[:0]
	return c.err
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
