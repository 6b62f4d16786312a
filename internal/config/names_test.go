package config

import (
	"regexp"
	"testing"
)

// The hand-written name checks must agree with wg-quick's expressions.
var (
	nameExpr = regexp.MustCompile(`^[a-zA-Z0-9_=+.-]{1,15}$`)
	pathExpr = regexp.MustCompile(`(^|/)([a-zA-Z0-9_=+.-]{1,15})\.conf$`)
)

func checkNames(t *testing.T, s string) {
	if got, want := IsInterfaceName(s), nameExpr.MatchString(s); got != want {
		t.Errorf("IsInterfaceName(%q) = %v, the expression says %v", s, got, want)
	}
	name, ok := InterfaceFromPath(s)
	m := pathExpr.FindStringSubmatch(s)
	if ok != (m != nil) || (ok && name != m[2]) {
		t.Errorf("InterfaceFromPath(%q) = %q, %v; the expression says %q", s, name, ok, m)
	}
}

func TestInterfaceNames(t *testing.T) {
	for _, s := range []string{
		"", "wg0", "wg-0_a=b+c.d", "a23456789012345", "a234567890123456", "wg 0", "wg/0", "wgé",
		"wg0.conf", "/etc/wireguard/wg0.conf", "./wg0.conf", "/x/.conf", "/x/a234567890123456.conf",
		"a.b.conf", "x.conf.conf", "/a/b/", "/wg0.conf/", "wg0.confx", "/etc/wg 0.conf", "a/b/c.conf",
		"/etc/wireguard/a234567890123456/wg0.conf", ".conf", "/.conf", "\x00.conf",
	} {
		checkNames(t, s)
	}
}

func FuzzInterfaceNames(f *testing.F) {
	f.Add("/etc/wireguard/wg0.conf")
	f.Add("a.b.conf")
	f.Fuzz(checkNames)
}
