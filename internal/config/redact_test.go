package config

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

const (
	testPriv = "eGvwC0w/iSf++8d3zGyAxieGhkOVC6HS9CM+5ht1kns="
	testPub  = "rH88fXnB0eX4gld6mGOlPI0uEQWNrr4nkzuqOl9fklY="
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{testPriv, Redacted},
		{"PrivateKey=" + testPriv, "PrivateKey=" + Redacted},
		{"PrivatKey=" + testPriv, "PrivatKey=" + Redacted},
		{testPriv + "x", Redacted + "x"},             // padding ends the run
		{strings.TrimSuffix(testPub, "="), Redacted}, // 43 characters
		{testPub[:20] + "-" + testPub[21:], Redacted + "-" + Redacted},
		{testPriv[:10] + "-" + testPriv[11:], testPriv[:10] + "-" + Redacted}, // the short part stays
		// Not keys: key names, words, numbers, names, addresses.
		{"PersistentKeepalive=25", "PersistentKeepalive=25"},
		{"25thiswillsendaping", "25thiswillsendaping"},
		{"99999999999999999999999", "99999999999999999999999"},
		{"vpn-gateway.corp.example.com:51820", "vpn-gateway.corp.example.com:51820"},
		{"2001:db8:abcd:12:ffff:ffff:ffff:ffff/128", "2001:db8:abcd:12:ffff:ffff:ffff:ffff/128"},
		{"ListenPort=51840", "ListenPort=51840"},
		// Not graphic: escaped.
		{"a\x1b[31mred\x1b[0m", `a\x1b[31mred\x1b[0m`},
		{"\uFEFF[Interface]", `\ufeff[Interface]`},
		{"bidi\u202Eevil", `bidi\u202eevil`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"tab\there", `tab\x09here`},
		{"héllo wörld", "héllo wörld"},
		// Long: cut.
		{strings.Repeat("[", MaxEcho+5), strings.Repeat("[", MaxEcho) + "...(5 more bytes)"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzRedact: whatever the input, the output has no key-like run, only
// graphic characters and spaces, and is bounded in length.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{testPriv, "PrivateKey = " + testPub + "x", "\x1b]0;title\x07", strings.Repeat("A1b", 100), "\uFEFF"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Redact(in)
		if !utf8.ValidString(out) {
			t.Fatalf("Redact(%q) = %q: not UTF-8", in, out)
		}
		for _, r := range out {
			if r != ' ' && !unicode.IsGraphic(r) {
				t.Fatalf("Redact(%q) = %q: has %U", in, out, r)
			}
		}
		if hideKeys(out) != out {
			t.Fatalf("Redact(%q) = %q: still has key-like runs", in, out)
		}
		// Each input byte becomes at most 6 output bytes (\uNNNN for a
		// 3-byte rune is less), plus the cut note.
		if len(out) > 6*MaxEcho+32 {
			t.Fatalf("Redact of %d bytes is %d bytes long", len(in), len(out))
		}
	})
}

// TestQuotePath: a path is escaped and capped, and keeps key-like names.
func TestQuotePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/etc/wireguard/ProductionGateway2024Main.conf", "`/etc/wireguard/ProductionGateway2024Main.conf'"},
		{"/tmp/a\x1b[2Jb.conf", "`/tmp/a\\x1b[2Jb.conf'"},
	} {
		if got := QuotePath(tc.in); got != tc.want {
			t.Errorf("QuotePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
