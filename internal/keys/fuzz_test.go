package keys

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// FuzzParse checks Parse against the standard library oracle (stdAccepts),
// and that every accepted string re-encodes to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		keySeq, keyZero, keyOnes,
		keyZero[:42] + "B=",
		keySeq[:43], keySeq + "=", keySeq + "\n",
		strings.Repeat("=", 44),
		"AAAA\n\n\n\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"-_" + keySeq[2:],
		"\u00e9" + keySeq[2:],
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		want, ok := stdAccepts(s)
		if (err == nil) != ok {
			t.Fatalf("Parse(%q) error = %v; standard library accepts: %v", s, err, ok)
		}
		if k != want {
			t.Fatalf("Parse(%q) = %x, want %x", s, k, want)
		}
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("Parse(%q) error %v is not ErrFormat", s, err)
			}
			return
		}
		if got := Encode(k); got != s {
			t.Fatalf("Encode(Parse(%q)) = %q", s, got)
		}
	})
}

// FuzzHex checks ParseHex against encoding/hex and the round trip
// through EncodeHex.
func FuzzHex(f *testing.F) {
	f.Add(strings.Repeat("a5", Len))
	f.Add(strings.Repeat("A5", Len))
	f.Add(strings.Repeat("0", 63))
	f.Add("0x" + strings.Repeat("0", 62))
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseHex(s)
		var want wgtypes.Key
		b, herr := hex.DecodeString(s)
		ok := herr == nil && len(b) == Len
		if ok {
			want = wgtypes.Key(b)
		}
		if (err == nil) != ok || k != want {
			t.Fatalf("ParseHex(%q) = %x, %v; encoding/hex %x, %v", s, k, err, b, herr)
		}
		if ok && EncodeHex(k) != strings.ToLower(s) {
			t.Fatalf("EncodeHex(ParseHex(%q)) = %q", s, EncodeHex(k))
		}
	})
}
