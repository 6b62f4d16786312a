package keys

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// ErrTrailing reports that wg pubkey's input had something other than NUL
// bytes and whitespace after the 44-character key.
//
//lint:ignore ST1005 the text must match wg(8) byte for byte
var ErrTrailing = errors.New("Trailing characters found after key")

// ErrKeyFileLength reports a key file that ended (or failed to read) before
// 44 bytes, other than an empty file at offset 0.
//
//lint:ignore ST1005 the text must match wg(8) byte for byte
var ErrKeyFileLength = errors.New("Invalid length key in key file")

// TrailingCharError reports a key file with a byte other than whitespace
// after its 44-character key. Char is the raw byte, which wg(8) prints as
// is, even when it is NUL or not valid UTF-8.
type TrailingCharError struct {
	Char byte
}

// Error returns wg(8)'s message, "Found trailing character in key file: `C'".
func (e *TrailingCharError) Error() string {
	// string([]byte{c}), not string(c): the latter would UTF-8-encode
	// bytes >= 0x80 where wg(8) prints the single raw byte.
	return "Found trailing character in key file: `" + string([]byte{e.Char}) + "'"
}

// FormatError reports a malformed key together with the offending text, as
// wg(8) reports keys from configuration files and key files. It unwraps to
// [ErrFormat].
type FormatError struct {
	// Value is the text that failed to parse. It may be secret.
	Value string
}

// Error returns wg(8)'s message, "Key is not the correct length or format:
// `VALUE'". Like wg(8), which prints Value as a C string, it shows Value only
// up to its first NUL byte.
func (e *FormatError) Error() string {
	v, _, _ := strings.Cut(e.Value, "\x00")
	return ErrFormat.Error() + ": `" + v + "'"
}

// Unwrap returns [ErrFormat].
func (e *FormatError) Unwrap() error { return ErrFormat }

// isSpace reports whether c is one of the six bytes wg(8) treats as
// whitespace regardless of locale: space, \t, \n, \v, \f and \r.
func isSpace(c byte) bool {
	return c == ' ' || ('\t' <= c && c <= '\r')
}

// ReadPubkeyInput reads a private key the way wg pubkey reads its standard
// input. It reads exactly 44 bytes, failing with [ErrFormat] if the input
// ends (or fails) first. It then reads to the end, skipping NUL bytes and
// whitespace and failing with [ErrTrailing] on any other byte; a read error
// there counts as the end of input, as it does for wg(8). Only then is the
// key parsed, so a leading space yields ErrTrailing (the 44-byte window is
// shifted), not ErrFormat.
func ReadPubkeyInput(r io.Reader) (wgtypes.Key, error) {
	var buf [Base64Len]byte
	defer wipeBytes(buf[:])
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return wgtypes.Key{}, ErrFormat
	}
	// wg pubkey's getc loop cannot tell a read error from EOF, so the read
	// error is dropped.
	if _, found, _ := scanTrailing(r, true); found {
		return wgtypes.Key{}, ErrTrailing
	}
	return parseBytes(buf[:])
}

// ReadKeyFile reads a key file the way wg set reads private-key and
// preshared-key files. It returns:
//
//   - the zero key and a nil error if r is empty and positioned at offset 0
//     (an empty file or /dev/null), which tells the device to remove the key;
//   - [ErrKeyFileLength] if fewer than 44 bytes can be read, including an
//     empty r that is an [io.Seeker] whose Seek fails, such as a pipe;
//   - a [*TrailingCharError] if a byte other than whitespace follows the
//     first 44 bytes;
//   - an error wrapping the read error, prefixed "getc: " as in wg(8), if
//     reading fails after the 44 bytes;
//   - a [*FormatError] (wrapping [ErrFormat]) if those 44 bytes are not a key.
//
// The offset check copies wg(8), which decides "empty" with ftell: for a
// pipe ftell fails, so an empty pipe (wg set … private-key <(true)) is a
// length error, not a request to remove the key. Readers that are not
// Seekers are treated as being at offset 0.
func ReadKeyFile(r io.Reader) (wgtypes.Key, error) {
	var buf [Base64Len]byte
	defer wipeBytes(buf[:])
	n, err := io.ReadFull(r, buf[:])
	switch {
	case err == nil:
	case n == 0 && err == io.EOF && atOffsetZero(r):
		return wgtypes.Key{}, nil
	default:
		return wgtypes.Key{}, ErrKeyFileLength
	}
	c, found, err := scanTrailing(r, false)
	if found {
		return wgtypes.Key{}, &TrailingCharError{Char: c}
	}
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("getc: %w", err)
	}
	k, err := parseBytes(buf[:])
	if err != nil {
		return wgtypes.Key{}, &FormatError{Value: string(buf[:])}
	}
	return k, nil
}

// scanTrailing reads r to its end. It stops at the first byte that is not
// whitespace (nor NUL, if allowNUL is set) and returns it with found set;
// otherwise it returns the read error that ended the input, or nil at EOF.
func scanTrailing(r io.Reader, allowNUL bool) (c byte, found bool, err error) {
	var chunk [512]byte
	for {
		n, err := r.Read(chunk[:])
		for _, c := range chunk[:n] {
			if !isSpace(c) && !(allowNUL && c == 0) {
				return c, true, nil
			}
		}
		if err == io.EOF {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
	}
}

// atOffsetZero reports whether r is at offset 0, treating a Seek failure as
// not (ftell's -1) and a reader without Seek as at offset 0.
func atOffsetZero(r io.Reader) bool {
	s, ok := r.(io.Seeker)
	if !ok {
		return true
	}
	off, err := s.Seek(0, io.SeekCurrent)
	return err == nil && off == 0
}

// WorldAccessible reports whether f is a regular file with any permission
// bit for "other" (0007) set. wg genkey and genpsk print a warning when
// writing a key to such a standard output. Like wg(8), it ignores group bits
// and everything that is not a regular file, and returns false if f cannot
// be stat'ed.
func WorldAccessible(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode().IsRegular() && fi.Mode().Perm()&0o007 != 0
}
