package keys

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// TestPublicFastPaths: the standard-library codecs for public keys agree
// with the constant-time ones on random keys and on every malformed input
// the constant-time decoder rejects.
func TestPublicFastPaths(t *testing.T) {
	for range 2000 {
		var k wgtypes.Key
		if _, err := rand.Read(k[:]); err != nil {
			t.Fatal(err)
		}
		if got, want := string(AppendPublic([]byte("x"), k)), "x"+Encode(k); got != want {
			t.Fatalf("AppendPublic = %q, want %q", got, want)
		}
		for _, h := range []string{EncodeHex(k), strings.ToUpper(EncodeHex(k))} {
			got, err := ParsePublicHex([]byte(h))
			if want, werr := ParseHex(h); err != nil || werr != nil || got != want {
				t.Fatalf("ParsePublicHex(%q) = %v, %v; ParseHex = %v, %v", h, got, err, want, werr)
			}
		}
	}
	good := strings.Repeat("ab", 32)
	for _, bad := range []string{"", good[:63], good + "0", good[:62] + "g0", good[:62] + " 0", good[:63] + "\x00", strings.Repeat("é", 32)} {
		_, err := ParsePublicHex([]byte(bad))
		_, werr := ParseHex(bad)
		if err == nil || werr == nil {
			t.Errorf("%q: ParsePublicHex err %v, ParseHex err %v; want both to reject", bad, err, werr)
		}
	}
	// Every single-byte substitution of a valid key, at every position:
	// both decoders agree on each.
	valid := []byte(Encode(wgtypes.Key{1, 2, 3, 250, 251, 252}))
	for i := range valid {
		for c := range 256 {
			m := bytes.Clone(valid)
			m[i] = byte(c)
			got, err := ParsePublic(string(m))
			want, werr := Parse(string(m))
			if (err == nil) != (werr == nil) || got != want {
				t.Fatalf("%q: ParsePublic %v, %v; Parse %v, %v", m, got, err, want, werr)
			}
		}
	}
	if !bytes.Equal(AppendPublic(nil, wgtypes.Key{}), []byte(Encode(wgtypes.Key{}))) {
		t.Error("zero key")
	}
}

// FuzzParsePublic: the fast public-key decoder accepts and returns exactly
// what the constant-time one does.
func FuzzParsePublic(f *testing.F) {
	f.Add("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=")
	f.Add("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBml=")
	f.Add("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk")
	f.Add("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3f\nmk=")
	f.Add("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fB==")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParsePublic(s)
		want, werr := Parse(s)
		if (err == nil) != (werr == nil) || got != want {
			t.Fatalf("ParsePublic(%q) = %v, %v; Parse = %v, %v", s, got, err, want, werr)
		}
	})
}
