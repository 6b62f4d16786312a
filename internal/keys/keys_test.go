package keys

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Fixed keys used across the tests. keySeq is the bytes 0x00..0x1f.
const (
	keySeq  = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	keyZero = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	keyOnes = "//////////////////////////////////////////8="
)

// stdAccepts is the documented equivalent of Parse built from the standard
// library: base64.StdEncoding.Strict() plus length checks. The decoded-length
// check matters: Strict() still skips '\r' and '\n', so a 44-character
// string with four newlines and 40 base64 characters decodes without error
// (to 29 bytes).
func stdAccepts(s string) (wgtypes.Key, bool) {
	if len(s) != Base64Len || s[Base64Len-1] != '=' {
		return wgtypes.Key{}, false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != Len {
		return wgtypes.Key{}, false
	}
	return wgtypes.Key(b), true
}

// replaceAt returns s with the byte at i replaced by c.
func replaceAt(s string, i int, c byte) string {
	b := []byte(s)
	b[i] = c
	return string(b)
}

// randomKey returns 32 random bytes.
func randomKey(t testing.TB) wgtypes.Key {
	t.Helper()
	var k wgtypes.Key
	if _, err := rand.Read(k[:]); err != nil {
		t.Fatalf("reading random bytes: %v", err)
	}
	return k
}

func TestParse(t *testing.T) {
	newlines := "AAAA\n\n\n\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{name: "sequence", in: keySeq, ok: true},
		{name: "zero", in: keyZero, ok: true},
		{name: "all ones", in: keyOnes, ok: true},
		{name: "last char E", in: keyZero[:42] + "E=", ok: true},
		{name: "last char w", in: keyZero[:42] + "w=", ok: true},
		{name: "last char 0", in: keyZero[:42] + "0=", ok: true},
		{name: "plus and slash", in: "+/+/" + keyZero[4:], ok: true},
		{name: "empty", in: ""},
		{name: "43 chars", in: keySeq[:43]},
		{name: "45 chars extra =", in: keySeq + "="},
		{name: "45 chars trailing newline", in: keySeq + "\n"},
		{name: "trailing space", in: keySeq[:43] + " "},
		{name: "leading space", in: " " + keySeq[:43]},
		{name: "no padding", in: keySeq[:43] + "A"},
		{name: "double padding", in: keySeq[:42] + "=="},
		{name: "padding at start", in: "=" + keySeq[1:]},
		{name: "padding in middle", in: replaceAt(keySeq, 20, '=')},
		{name: "all padding", in: strings.Repeat("=", 44)},
		{name: "url alphabet dash", in: replaceAt(keySeq, 5, '-')},
		{name: "url alphabet underscore", in: replaceAt(keySeq, 5, '_')},
		{name: "space inside", in: replaceAt(keySeq, 10, ' ')},
		{name: "tab inside", in: replaceAt(keySeq, 10, '\t')},
		{name: "NUL inside", in: replaceAt(keySeq, 10, 0)},
		{name: "NUL last", in: keySeq[:43] + "\x00"},
		{name: "dot", in: replaceAt(keySeq, 0, '.')},
		{name: "high byte", in: replaceAt(keySeq, 3, 0xff)},
		{name: "latin1 A grave", in: replaceAt(keySeq, 3, 0xc0)},
		{name: "unicode e acute", in: "\u00e9" + keySeq[2:]},
		{name: "non-canonical AB", in: keyZero[:42] + "B="},
		{name: "non-canonical AF", in: keyZero[:42] + "F="},
		{name: "non-canonical slash", in: keyZero[:42] + "/="},
		{name: "non-canonical 9", in: keyZero[:42] + "9="},
		{name: "newlines Strict skips", in: newlines},
		{name: "CRLF inside", in: "AA\r\n" + keyZero[4:]},
		{name: "hex key", in: hex.EncodeToString(make([]byte, 32))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if ok := err == nil; ok != tt.ok {
				t.Fatalf("Parse(%q) error = %v, want ok %v", tt.in, err, tt.ok)
			}
			wantKey, stdOK := stdAccepts(tt.in)
			if stdOK != tt.ok {
				t.Fatalf("standard library oracle accepts %q: %v, table says %v", tt.in, stdOK, tt.ok)
			}
			if diff := cmp.Diff(wantKey, got); diff != "" {
				t.Errorf("unexpected key (-want +got):\n%s", diff)
			}
			if !tt.ok {
				if !errors.Is(err, ErrFormat) {
					t.Errorf("error %v is not ErrFormat", err)
				}
				if diff := cmp.Diff("Key is not the correct length or format", err.Error()); diff != "" {
					t.Errorf("unexpected error text (-want +got):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff(tt.in, Encode(got)); diff != "" {
				t.Errorf("unexpected re-encoding (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseNewlineOracle pins the reason stdAccepts checks the decoded
// length: without it, the standard library would accept this string.
func TestParseNewlineOracle(t *testing.T) {
	s := "AAAA\n\n\n\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	if len(s) != Base64Len || s[43] != '=' {
		t.Fatalf("test string has length %d", len(s))
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		t.Fatalf("Strict() rejected %q: %v; newline skipping has changed", s, err)
	}
	if len(b) == Len {
		t.Fatalf("decoded to %d bytes", len(b))
	}
	if _, err := Parse(s); err == nil {
		t.Fatalf("Parse(%q) accepted newlines", s)
	}
}

// TestParseSingleSubstitution replaces every position of valid keys with
// every byte value and checks Parse against the standard library oracle.
func TestParseSingleSubstitution(t *testing.T) {
	for _, base := range []string{keySeq, keyZero, keyOnes} {
		for i := 0; i < Base64Len; i++ {
			for c := 0; c < 256; c++ {
				s := replaceAt(base, i, byte(c))
				got, err := Parse(s)
				want, ok := stdAccepts(s)
				if (err == nil) != ok || got != want {
					t.Fatalf("Parse(%q) = %x, %v; oracle %x, %v", s, got, err, want, ok)
				}
			}
		}
	}
}

// TestParseCanonicalLastChar checks the spec's list of the 16 characters
// allowed before the '='.
func TestParseCanonicalLastChar(t *testing.T) {
	var got []byte
	for c := 0; c < 256; c++ {
		if _, err := Parse(keyZero[:42] + string([]byte{byte(c)}) + "="); err == nil {
			got = append(got, byte(c))
		}
	}
	if diff := cmp.Diff("048AEIMQUYcgkosw", string(got)); diff != "" {
		t.Errorf("unexpected canonical last characters (-want +got):\n%s", diff)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	for i := 0; i < 20000; i++ {
		k := randomKey(t)
		s := Encode(k)
		if want := base64.StdEncoding.EncodeToString(k[:]); s != want {
			t.Fatalf("Encode(%x) = %q, want %q", k, s, want)
		}
		got, err := Parse(s)
		if err != nil || got != k {
			t.Fatalf("Parse(%q) = %x, %v; want %x", s, got, err, k)
		}

		h := EncodeHex(k)
		if want := hex.EncodeToString(k[:]); h != want {
			t.Fatalf("EncodeHex(%x) = %q, want %q", k, h, want)
		}
		for _, in := range []string{h, strings.ToUpper(h)} {
			got, err := ParseHex(in)
			if err != nil || got != k {
				t.Fatalf("ParseHex(%q) = %x, %v; want %x", in, got, err, k)
			}
		}
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		in   wgtypes.Key
		want string
		hex  string
	}{
		{
			name: "zero",
			want: keyZero,
			hex:  strings.Repeat("0", 64),
		},
		{
			name: "all ones",
			in:   wgtypes.Key(bytesOf(0xff)),
			want: keyOnes,
			hex:  strings.Repeat("f", 64),
		},
		{
			name: "sequence",
			in:   wgtypes.Key(seq()),
			want: keySeq,
			hex:  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Encode(tt.in)); diff != "" {
				t.Errorf("unexpected base64 (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.hex, EncodeHex(tt.in)); diff != "" {
				t.Errorf("unexpected hex (-want +got):\n%s", diff)
			}
		})
	}
}

// bytesOf returns 32 copies of b.
func bytesOf(b byte) []byte {
	out := make([]byte, Len)
	for i := range out {
		out[i] = b
	}
	return out
}

// seq returns the bytes 0..31.
func seq() []byte {
	out := make([]byte, Len)
	for i := range out {
		out[i] = byte(i)
	}
	return out
}

func TestParseHex(t *testing.T) {
	valid := "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{name: "lowercase", in: valid, ok: true},
		{name: "uppercase", in: strings.ToUpper(valid), ok: true},
		{name: "mixed case", in: "Ab" + valid[2:], ok: true},
		{name: "empty", in: ""},
		{name: "63 digits", in: valid[:63]},
		{name: "65 digits", in: valid + "0"},
		{name: "0x prefix", in: "0x" + valid[2:]},
		{name: "g", in: "g" + valid[1:]},
		{name: "G", in: "G" + valid[1:]},
		{name: "space", in: " " + valid[1:]},
		{name: "trailing newline", in: valid[:63] + "\n"},
		{name: "NUL", in: "\x00" + valid[1:]},
		{name: "colon", in: ":" + valid[1:]},
		{name: "at sign", in: "@" + valid[1:]},
		{name: "backtick", in: "`" + valid[1:]},
		{name: "high byte", in: "\xe1" + valid[1:]},
		{name: "unicode", in: "\u00e9" + valid[2:]},
		{name: "base64 key", in: keySeq},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHex(tt.in)
			if ok := err == nil; ok != tt.ok {
				t.Fatalf("ParseHex(%q) error = %v, want ok %v", tt.in, err, tt.ok)
			}
			var want wgtypes.Key
			if b, err := hex.DecodeString(tt.in); err == nil && len(b) == Len {
				want = wgtypes.Key(b)
			} else if tt.ok {
				t.Fatalf("encoding/hex rejects %q: %v", tt.in, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("unexpected key (-want +got):\n%s", diff)
			}
			if !tt.ok && !errors.Is(err, ErrFormat) {
				t.Errorf("error %v is not ErrFormat", err)
			}
		})
	}
}

// TestParseHexSingleSubstitution tries every byte at every position.
func TestParseHexSingleSubstitution(t *testing.T) {
	base := strings.Repeat("a5", Len)
	for i := 0; i < HexLen; i++ {
		for c := 0; c < 256; c++ {
			s := replaceAt(base, i, byte(c))
			got, err := ParseHex(s)
			b, herr := hex.DecodeString(s)
			if (err == nil) != (herr == nil) || (err == nil && !cmp.Equal(got[:], b)) {
				t.Fatalf("ParseHex(%q) = %x, %v; encoding/hex %x, %v", s, got, err, b, herr)
			}
		}
	}
}

func Test_base64Value(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for c := 0; c < 256; c++ {
		want := int32(strings.IndexByte(alphabet, byte(c)))
		if got := base64Value(byte(c)); got != want {
			t.Errorf("base64Value(%#02x) = %d, want %d", c, got, want)
		}
	}
	for v := 0; v < 64; v++ {
		if got, want := base64Char(byte(v)), alphabet[v]; got != want {
			t.Errorf("base64Char(%d) = %q, want %q", v, got, want)
		}
	}
}

func Test_hexValue(t *testing.T) {
	for c := 0; c < 256; c++ {
		b, err := hex.DecodeString("0" + string([]byte{byte(c)}))
		wantValid := int32(0)
		wantValue := int32(0)
		if err == nil {
			wantValid, wantValue = -1, int32(b[0])
		}
		value, valid := hexValue(byte(c))
		if valid != wantValid || value != wantValue {
			t.Errorf("hexValue(%#02x) = %d, %d; want %d, %d", c, value, valid, wantValue, wantValid)
		}
	}
	for n := 0; n < 16; n++ {
		if got, want := hexChar(byte(n)), "0123456789abcdef"[n]; got != want {
			t.Errorf("hexChar(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPublic(t *testing.T) {
	// RFC 7748 section 6.1, plus a key that is not clamped.
	tests := []struct {
		name    string
		private string
		public  string
	}{
		{
			name:    "RFC 7748 Alice",
			private: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
			public:  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
		},
		{
			name:    "RFC 7748 Bob",
			private: "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
			public:  "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			priv, err := ParseHex(tt.private)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.public, EncodeHex(Public(priv))); diff != "" {
				t.Errorf("unexpected public key (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("clamping is internal", func(t *testing.T) {
		for i := 0; i < 200; i++ {
			k := randomKey(t)
			c := k
			clamp(&c)
			if Public(k) != Public(c) {
				t.Fatalf("Public(%x) differs from Public of its clamped form", k)
			}
			if got, want := Public(k), k.PublicKey(); got != want {
				t.Fatalf("Public(%x) = %x, wgtypes says %x", k, got, want)
			}
		}
	})
	t.Run("degenerate scalars", func(t *testing.T) {
		// All-zero and all-one scalars clamp to valid scalars; none may panic.
		for _, k := range []wgtypes.Key{{}, wgtypes.Key(bytesOf(0xff)), wgtypes.Key(bytesOf(0x01))} {
			if Public(k) == (wgtypes.Key{}) {
				t.Errorf("Public(%x) is zero", k)
			}
		}
	})
}

// assertClamped fails unless k has the Curve25519 clamping bits.
func assertClamped(t *testing.T, k wgtypes.Key) {
	t.Helper()
	if k[0]&7 != 0 || k[31]&0x80 != 0 || k[31]&0x40 == 0 {
		t.Errorf("key %x is not clamped: byte0=%08b byte31=%08b", k, k[0], k[31])
	}
}

func TestGeneratePrivate(t *testing.T) {
	seen := make(map[wgtypes.Key]bool)
	for i := 0; i < 1000; i++ {
		k, err := GeneratePrivate()
		if err != nil {
			t.Fatalf("GeneratePrivate: %v", err)
		}
		assertClamped(t, k)
		if seen[k] {
			t.Fatalf("GeneratePrivate repeated %x", k)
		}
		seen[k] = true
	}
}

func TestGeneratePresharedKey(t *testing.T) {
	// A PSK is not clamped: across 256 keys, some must have a bit that
	// clamping would clear (each key looks clamped with probability 1/32).
	unclamped := false
	seen := make(map[wgtypes.Key]bool)
	for i := 0; i < 256; i++ {
		k, err := GeneratePresharedKey()
		if err != nil {
			t.Fatalf("GeneratePresharedKey: %v", err)
		}
		c := k
		clamp(&c)
		unclamped = unclamped || c != k
		if seen[k] {
			t.Fatalf("GeneratePresharedKey repeated %x", k)
		}
		seen[k] = true
	}
	if !unclamped {
		t.Error("all 256 preshared keys were clamped")
	}
}

func TestWipe(t *testing.T) {
	k := wgtypes.Key(bytesOf(0xaa))
	Wipe(&k)
	if diff := cmp.Diff(wgtypes.Key{}, k); diff != "" {
		t.Errorf("unexpected key after Wipe (-want +got):\n%s", diff)
	}
	Wipe(nil) // must not panic
}

// TestAllocations checks that parsing makes no heap copies of the secret and
// that encoding makes only the returned string.
func TestAllocations(t *testing.T) {
	h := EncodeHex(wgtypes.Key(seq()))
	tests := []struct {
		name string
		f    func()
		want float64
	}{
		{name: "Parse", f: func() { _, _ = Parse(keySeq) }, want: 0},
		{name: "ParseHex", f: func() { _, _ = ParseHex(h) }, want: 0},
		{name: "Encode", f: func() { _ = Encode(wgtypes.Key{}) }, want: 1},
		{name: "EncodeHex", f: func() { _ = EncodeHex(wgtypes.Key{}) }, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tt.f); got != tt.want {
				t.Errorf("%s allocates %v times per run, want %v", tt.name, got, tt.want)
			}
		})
	}
}

var (
	sinkKey    wgtypes.Key
	sinkString string
)

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		k, err := Parse(keySeq)
		if err != nil {
			b.Fatal(err)
		}
		sinkKey = k
	}
}

func BenchmarkEncode(b *testing.B) {
	k := wgtypes.Key(seq())
	b.ReportAllocs()
	for b.Loop() {
		sinkString = Encode(k)
	}
}

func BenchmarkParseHex(b *testing.B) {
	h := EncodeHex(wgtypes.Key(seq()))
	b.ReportAllocs()
	for b.Loop() {
		k, err := ParseHex(h)
		if err != nil {
			b.Fatal(err)
		}
		sinkKey = k
	}
}

func BenchmarkEncodeHex(b *testing.B) {
	k := wgtypes.Key(seq())
	b.ReportAllocs()
	for b.Loop() {
		sinkString = EncodeHex(k)
	}
}

func BenchmarkPublic(b *testing.B) {
	k := wgtypes.Key(seq())
	for b.Loop() {
		sinkKey = Public(k)
	}
}

func TestAppendHex(t *testing.T) {
	for _, k := range []wgtypes.Key{{}, {0xff, 0x01, 0xab}, {31: 0x9c}} {
		if got, want := string(AppendHex([]byte("x="), k)), "x="+EncodeHex(k); got != want {
			t.Errorf("AppendHex(%x) = %q, want %q", k, got, want)
		}
	}
}
