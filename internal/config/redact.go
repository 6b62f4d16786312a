package config

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxEcho is the most bytes of one piece of input that a message repeats.
const MaxEcho = 128

// minKeyRun is the shortest run of base64 characters that Redact hides.
const minKeyRun = 20

// Redacted stands for a hidden run of key material in a message.
const Redacted = "(hidden)"

// Redact makes a piece of the user's input (a value, a line) safe to
// repeat in an error, a warning, a check report or a log line, which for
// wg-quick under systemd end up in the journal:
//
//   - Key material is hidden: every run of minKeyRun or more characters of
//     the base64 alphabet (A-Z a-z 0-9 + /, and = as trailing padding)
//     with an upper-case letter, a lower-case letter and a digit or symbol
//     becomes Redacted. A WireGuard key is 44 such characters, so a valid
//     key, a nearly valid one (a character too many or too few) and the
//     longer part of one with a wrong character in it (at least 22
//     characters) are hidden, whatever key name, typo or section they came
//     with; what may remain of a broken key is at most 21 characters, 126
//     of its 256 bits. Key names ("PrivateKey=", the "=" ends the run),
//     words, numbers, host names and IP addresses are not such runs and
//     stay.
//   - Characters that are not graphic (terminal escape sequences, other
//     control characters, bidirectional overrides, invalid UTF-8) are
//     written as \xNN or \uNNNN.
//   - More than MaxEcho bytes of input are cut, and the message says how
//     many bytes were left out.
//
// The reference repeats input as it is; its message text around the value
// is kept, so what a script matches still matches.
func Redact(s string) string {
	s, rest := capEcho(s)
	// Escapes first: hiding then sees the text as it is printed.
	return hideKeys(escape(s)) + rest
}

// escapeCapped is Redact without hiding keys.
func escapeCapped(s string) string {
	s, rest := capEcho(s)
	return escape(s) + rest
}

// capEcho cuts s to MaxEcho bytes (on a character boundary) and returns the
// note on what was cut.
func capEcho(s string) (string, string) {
	rest := ""
	if len(s) > MaxEcho {
		cut := MaxEcho
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		rest = fmt.Sprintf("...(%d more bytes)", len(s)-cut)
		s = s[:cut]
	}
	return s, rest
}

// hideKeys replaces the key-like runs of s with Redacted.
func hideKeys(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && isBase64(s[j]) {
			j++
		}
		for j < len(s) && s[j] == '=' && j > i {
			j++ // padding ends a run
		}
		if j == i {
			b.WriteByte(s[i])
			i++
			continue
		}
		if run := s[i:j]; len(run) >= minKeyRun && keyLike(run) {
			b.WriteString(Redacted)
		} else {
			b.WriteString(run)
		}
		i = j
	}
	return b.String()
}

func isBase64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// keyLike says whether a base64 run mixes upper- and lower-case letters
// with digits or symbols, as nearly every random key does and words,
// numbers and names rarely do.
func keyLike(run string) bool {
	var upper, lower, other bool
	for i := 0; i < len(run); i++ {
		switch c := run[i]; {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c != '=':
			other = true
		}
	}
	return upper && lower && other
}

// escape writes the characters of s that are not graphic as escapes.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < utf8.RuneSelf && (r < 0x20 || r == 0x7f):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= utf8.RuneSelf && !unicode.IsGraphic(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
