package config

import (
	"errors"
	"strconv"
)

// ErrLineUnrecognized is wrapped by a ParseError for a line wg does not
// know: an unknown key, a key in the wrong section, an empty value, a line
// before any section, or an unknown section header.
var ErrLineUnrecognized = errors.New("Line unrecognized")

// ErrMissingPublicKey is wrapped by the ParseError for a [Peer] section
// without a PublicKey; wg reports it as an invalid configuration rather than
// a parsing error.
var ErrMissingPublicKey = errors.New("A peer is missing a public key")

// ParseError is a configuration error at one line of one file. Msg is the
// reference tool's own wording (“Line unrecognized: `Foo=bar'”, “Key is not
// the correct length or format: `…'”), so that text scripts grep for is
// unchanged; Error prefixes it with the place.
type ParseError struct {
	File string // as given to the parser; may be empty
	Line int    // 1-based
	Msg  string
	// Hint, when set, explains a likely cause the reference does not name.
	Hint string
	Err  error
}

func (e *ParseError) Error() string {
	s := e.Msg
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	place := e.File
	if place == "" {
		place = "line " + strconv.Itoa(e.Line)
	} else if e.Line > 0 {
		place += ":" + strconv.Itoa(e.Line)
	}
	return place + ": " + s
}

func (e *ParseError) Unwrap() error { return e.Err }
