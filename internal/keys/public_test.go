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
	if !bytes.Equal(AppendPublic(nil, wgtypes.Key{}), []byte(Encode(wgtypes.Key{}))) {
		t.Error("zero key")
	}
}
