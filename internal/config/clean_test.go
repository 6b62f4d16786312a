package config

import (
	"strings"
	"testing"
)

// oldCleanLine is wg's cleaning written the plain way: cut at '#', delete
// every white-space character. cleanLine must see every line as it does.
func oldCleanLine(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if !isCSpace(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// oldKeyValue is get_value on a whole cleaned line.
func oldKeyValue(line, key string) (string, bool) {
	n := len(key)
	if len(line) <= n+1 || line[n] != '=' || !strings.EqualFold(line[:n], key) {
		return "", false
	}
	return line[n+1:], true
}

func checkCleanLine(t *testing.T, s string) {
	old, got := oldCleanLine(s), cleanLine(s)
	if got.String() != old {
		t.Fatalf("cleanLine(%q) = %q, want %q", s, got.String(), old)
	}
	if (!got.eq && got.key == "") != (old == "") {
		t.Fatalf("cleanLine(%q): empty = %v, want %v", s, !got.eq && got.key == "", old == "")
	}
	for _, h := range []string{"[Interface]", "[Peer]"} {
		if got.is(h) != strings.EqualFold(old, h) {
			t.Fatalf("cleanLine(%q).is(%q) = %v", s, h, got.is(h))
		}
	}
	for _, k := range []string{"ListenPort", "FwMark", "PrivateKey", "Endpoint", "PublicKey", "AllowedIPs", "PersistentKeepalive", "PresharedKey"} {
		v1, ok1 := oldKeyValue(old, k)
		v2, ok2 := keyValue(got, k)
		if v1 != v2 || ok1 != ok2 {
			t.Fatalf("keyValue(%q, %s) = %q, %v; want %q, %v", s, k, v2, ok2, v1, ok1)
		}
	}
}

func TestCleanLine(t *testing.T) {
	for _, s := range []string{
		"", " ", "#x", "[Peer]", " [ peer ] # c", "[Peer]=", "PublicKey = abc", "Public Key=abc", "publickey =",
		"PublicKey= =x", "AllowedIPs = 10.0.0.1/32, fd00::1/128", "Endpoint=[::1]:5=1", "=x", "PublicKey\t=\vx\r",
		"Public\u212Aey = x", "\uFEFFPrivateKey = x", "ListenPort = 51820 # port", "[Interface]x", "ListenPort==1",
	} {
		checkCleanLine(t, s)
	}
}

func FuzzCleanLine(f *testing.F) {
	f.Add("AllowedIPs = 10.0.0.1/32, fd00::1/128 # c")
	f.Add(" [ Peer ] ")
	f.Fuzz(checkCleanLine)
}
