package keys

import "golang.zx2c4.com/wireguard/wgctrl/wgtypes"

// The helpers in this file never branch on, or index memory by, a secret
// byte or character. Each character class is tested with a mask built from
// the sign bits of two subtractions, and the results are combined with
// AND/OR/ADD, so the instruction stream and memory accesses are the same for
// every input of a given length. Only the lengths and the final accept/reject
// decision are branched on, as in wireguard-tools' encoding.c.

// text is either form a key can arrive in: a string, or a byte slice that
// the caller will wipe.
type text interface{ ~string | ~[]byte }

// between returns all ones if lo <= c <= hi and zero otherwise. c, lo and hi
// are byte values, so the subtractions cannot overflow an int32.
func between(c, lo, hi int32) int32 {
	return ((lo - 1 - c) & (c - (hi + 1))) >> 31
}

// atLeast returns all ones if v >= n and zero otherwise, for small
// non-negative v and n.
func atLeast(v, n int32) int32 {
	return ((n - 1) - v) >> 31
}

// base64Value returns the 6-bit value of the standard-alphabet character c,
// or -1 if c is not one. Exactly one of the class masks can be set, and each
// masked term is the character's value plus one, so the sum is value+1-1 for
// a valid character and 0-1 otherwise.
func base64Value(c byte) int32 {
	x := int32(c)
	return -1 +
		(between(x, 'A', 'Z') & (x - 'A' + 1)) +
		(between(x, 'a', 'z') & (x - 'a' + 27)) +
		(between(x, '0', '9') & (x - '0' + 53)) +
		(between(x, '+', '+') & 63) +
		(between(x, '/', '/') & 64)
}

// base64Char returns the standard-alphabet character for the 6-bit value v.
// Starting from 'A'+v, each threshold the value crosses adds the distance
// between the end of one alphabet run and the start of the next.
func base64Char(v byte) byte {
	x := int32(v)
	x += 'A' +
		(atLeast(x, 26) & ('a' - ('Z' + 1))) +
		(atLeast(x, 52) & ('0' - ('z' + 1))) +
		(atLeast(x, 62) & ('+' - ('9' + 1))) +
		(atLeast(x, 63) & ('/' - ('+' + 1)))
	return byte(x)
}

// decodeQuad decodes four base64 characters into a 24-bit value. The result
// is negative if any character is outside the alphabet, because a -1 from
// base64Value keeps the sign bit set through the shift and the ORs.
func decodeQuad(a, b, c, d byte) int32 {
	return base64Value(a)<<18 | base64Value(b)<<12 | base64Value(c)<<6 | base64Value(d)
}

// decodeBase64 decodes s into k and reports whether s is a valid key. It
// writes k even on failure; callers wipe it.
func decodeBase64[T text](k *wgtypes.Key, s T) bool {
	if len(s) != Base64Len {
		return false
	}
	var bad int32
	for i := 0; i < Len/3; i++ {
		v := decodeQuad(s[4*i], s[4*i+1], s[4*i+2], s[4*i+3])
		bad |= v >> 31
		k[3*i] = byte(v >> 16)
		k[3*i+1] = byte(v >> 8)
		k[3*i+2] = byte(v)
	}
	// The final quantum holds two bytes in three characters plus '='. Its
	// third character carries two bits beyond the key; they must be zero for
	// the encoding to be canonical, so the low byte of the quad must be 0.
	v := decodeQuad(s[40], s[41], s[42], 'A')
	bad |= v>>31 | v&0xff
	bad |= int32(s[43]) ^ '='
	k[30] = byte(v >> 16)
	k[31] = byte(v >> 8)
	return bad == 0
}

// encodeBase64 writes the padded base64 encoding of k into dst.
func encodeBase64(dst *[Base64Len]byte, k *wgtypes.Key) {
	var i int
	for i = 0; i < Len/3; i++ {
		encodeQuad(dst[4*i:4*i+4], k[3*i], k[3*i+1], k[3*i+2])
	}
	encodeQuad(dst[4*i:4*i+4], k[3*i], k[3*i+1], 0)
	dst[Base64Len-1] = '='
}

// encodeQuad encodes three bytes as four base64 characters into dst.
func encodeQuad(dst []byte, a, b, c byte) {
	_ = dst[3]
	dst[0] = base64Char(a >> 2)
	dst[1] = base64Char((a<<4 | b>>4) & 63)
	dst[2] = base64Char((b<<2 | c>>6) & 63)
	dst[3] = base64Char(c & 63)
}

// hexChar returns the lowercase hex digit for the nibble n.
func hexChar(n byte) byte {
	x := int32(n)
	return byte(x + '0' + (atLeast(x, 10) & ('a' - ('9' + 1))))
}

// hexValue returns the value of the hex digit c (either case) and a mask
// that is all ones if c is a hex digit and zero otherwise.
func hexValue(c byte) (value, valid int32) {
	x := int32(c)
	digit := between(x, '0', '9')
	lower := between(x, 'a', 'f')
	upper := between(x, 'A', 'F')
	value = (digit & (x - '0')) | (lower & (x - 'a' + 10)) | (upper & (x - 'A' + 10))
	return value, digit | lower | upper
}

// encodeHex writes the lowercase hex encoding of k into dst.
func encodeHex(dst *[HexLen]byte, k *wgtypes.Key) {
	for i, b := range k {
		dst[2*i] = hexChar(b >> 4)
		dst[2*i+1] = hexChar(b & 0xf)
	}
}

// decodeHex decodes s into k and reports whether s is exactly HexLen hex
// digits. It writes k even on failure; callers wipe it.
func decodeHex[T text](k *wgtypes.Key, s T) bool {
	if len(s) != HexLen {
		return false
	}
	var bad int32
	for i := range k {
		hi, okHi := hexValue(s[2*i])
		lo, okLo := hexValue(s[2*i+1])
		bad |= ^okHi | ^okLo
		k[i] = byte(hi<<4 | lo)
	}
	return bad == 0
}
