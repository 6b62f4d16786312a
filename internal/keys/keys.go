package keys

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/crypto/curve25519"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Len is the length in bytes of a WireGuard key.
const Len = 32

// Base64Len is the length of a base64-encoded key, including its single '='
// padding character.
const Base64Len = 44

// HexLen is the length of a hex-encoded key, as used by the UAPI protocol.
const HexLen = 2 * Len

// ErrFormat reports a key that is not the correct length or format. Its text
// is wg(8)'s; callers that echo the offending value append ": `VALUE'"
// themselves (see [FormatError]).
//
//lint:ignore ST1005 the text must match wg(8) byte for byte
var ErrFormat = errors.New("Key is not the correct length or format")

// Parse decodes a base64 key with wg(8)'s rules: exactly [Base64Len]
// characters, the last one '=', the rest from the standard alphabet, and a
// canonical final character. It runs in time independent of the key's
// characters; only the length of s is allowed to leak. On failure it returns
// the zero key and [ErrFormat].
func Parse(s string) (wgtypes.Key, error) {
	var k wgtypes.Key
	if !decodeBase64(&k, s) {
		Wipe(&k)
		return wgtypes.Key{}, ErrFormat
	}
	return k, nil
}

// parseBytes is Parse for a byte slice, so that secrets read from files and
// pipes need not be copied into an unwipeable string first.
func parseBytes(b []byte) (wgtypes.Key, error) {
	var k wgtypes.Key
	if !decodeBase64(&k, b) {
		Wipe(&k)
		return wgtypes.Key{}, ErrFormat
	}
	return k, nil
}

// Encode returns the standard, padded base64 encoding of k (44 characters),
// computed in constant time.
func Encode(k wgtypes.Key) string {
	var buf [Base64Len]byte
	encodeBase64(&buf, &k)
	s := string(buf[:])
	wipeBytes(buf[:])
	Wipe(&k)
	return s
}

// EncodeHex returns the lowercase hexadecimal encoding of k (64 characters),
// as the UAPI protocol carries keys, computed in constant time.
func EncodeHex(k wgtypes.Key) string {
	var buf [HexLen]byte
	encodeHex(&buf, &k)
	s := string(buf[:])
	wipeBytes(buf[:])
	Wipe(&k)
	return s
}

// AppendHex appends EncodeHex's text to dst, in constant time and
// without a string that could not be wiped.
func AppendHex(dst []byte, k wgtypes.Key) []byte {
	var buf [HexLen]byte
	encodeHex(&buf, &k)
	dst = append(dst, buf[:]...)
	wipeBytes(buf[:])
	Wipe(&k)
	return dst
}

// ParseHex decodes a key from exactly [HexLen] hexadecimal digits in constant
// time. Like wireguard-tools' key_from_hex (and encoding/hex), it accepts
// both lowercase and uppercase digits; anything else is [ErrFormat].
func ParseHex(s string) (wgtypes.Key, error) {
	var k wgtypes.Key
	if !decodeHex(&k, s) {
		Wipe(&k)
		return wgtypes.Key{}, ErrFormat
	}
	return k, nil
}

// GeneratePrivate returns a new random private key, clamped for Curve25519
// as wg genkey clamps it: the low three bits of the first byte cleared, the
// top bit of the last byte cleared and its second-highest bit set.
func GeneratePrivate() (wgtypes.Key, error) {
	k, err := GeneratePresharedKey()
	if err != nil {
		return wgtypes.Key{}, err
	}
	clamp(&k)
	return k, nil
}

// GeneratePresharedKey returns 32 random bytes, unclamped, as wg genpsk
// does.
func GeneratePresharedKey() (wgtypes.Key, error) {
	var k wgtypes.Key
	if _, err := rand.Read(k[:]); err != nil {
		Wipe(&k)
		return wgtypes.Key{}, fmt.Errorf("getrandom: %w", err)
	}
	return k, nil
}

// clamp applies the Curve25519 secret-scalar clamping of RFC 7748 in place.
func clamp(k *wgtypes.Key) {
	k[0] &= 248
	k[31] = (k[31] & 127) | 64
}

// Public returns the public key for private: X25519(private, 9). private
// need not be clamped, because X25519 clamps its scalar itself; so, as with
// wg pubkey, a preshared key can be fed in as well.
func Public(private wgtypes.Key) wgtypes.Key {
	out, err := curve25519.X25519(private[:], curve25519.Basepoint)
	Wipe(&private)
	if err != nil {
		// X25519 fails only when the result is the all-zero point. A clamped
		// scalar is 8·m with 2^251 <= m < 2^252, below the basepoint's prime
		// order, so the product with the basepoint is never the identity.
		panic("keys: X25519 with the basepoint failed: " + err.Error())
	}
	var pub wgtypes.Key
	copy(pub[:], out)
	return pub
}

// Wipe zeroes *k in a way the compiler cannot drop as a dead store. It does
// nothing if k is nil.
func Wipe(k *wgtypes.Key) {
	if k == nil {
		return
	}
	wipeBytes(k[:])
}

// wipeBytes zeroes b; the KeepAlive keeps the backing array reachable until
// after the stores, so they cannot be treated as dead.
func wipeBytes(b []byte) {
	clear(b)
	runtime.KeepAlive(b)
}

// AppendPublic appends the base64 encoding of a public key to dst with the
// standard library's encoder, which is not constant-time: for public keys
// only, which are not secret, where encoding thousands of them (wg show of
// a large device) should cost what it costs in C.
func AppendPublic(dst []byte, k wgtypes.Key) []byte {
	return base64.StdEncoding.AppendEncode(dst, k[:])
}

// ParsePublicHex decodes a public key from exactly [HexLen] hexadecimal
// digits, either case, with the standard library's decoder, which is not
// constant-time; for secrets use [ParseHex].
func ParsePublicHex(s []byte) (wgtypes.Key, error) {
	var k wgtypes.Key
	if len(s) != HexLen {
		return k, ErrFormat
	}
	if _, err := hex.Decode(k[:], s); err != nil {
		return wgtypes.Key{}, ErrFormat
	}
	return k, nil
}

// ParsePublic is [Parse] for public keys, with the standard library's
// strict decoder, which is not constant-time: a configuration of 10,000
// peers carries 10,000 public keys and no secret among them. It accepts
// exactly what Parse accepts.
func ParsePublic(s string) (wgtypes.Key, error) {
	var k wgtypes.Key
	var buf [Base64Len]byte
	if len(s) != Base64Len || s[Base64Len-1] != '=' {
		return k, ErrFormat
	}
	n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(s))
	if err != nil || n != len(k) {
		return k, ErrFormat
	}
	copy(k[:], buf[:n])
	return k, nil
}

// AppendPublicHex appends the lowercase hexadecimal encoding of a public
// key to dst with the standard library's encoder (not constant-time; for
// public keys only).
func AppendPublicHex(dst []byte, k wgtypes.Key) []byte {
	return hex.AppendEncode(dst, k[:])
}
