package config

import "strings"

// MaxInterfaceName is the longest interface name Linux accepts
// (IFNAMSIZ - 1).
const MaxInterfaceName = 15

// IsInterfaceName reports whether s is a name wg-quick accepts for an
// interface: 1 to 15 of a-z, A-Z, 0-9 and _=+.- (wg-quick's expression
// ^[a-zA-Z0-9_=+.-]{1,15}$, written out so that no regexp is compiled at
// start-up by every `wg-quick strip`).
func IsInterfaceName(s string) bool {
	if len(s) == 0 || len(s) > MaxInterfaceName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_=+.-", c) >= 0) {
			return false
		}
	}
	return true
}

// InterfaceFromPath returns NAME when the last element of path is NAME.conf
// and NAME is an interface name: wg-quick's (^|/)([a-zA-Z0-9_=+.-]{1,15})\.conf$.
// Since NAME cannot hold a slash, it is always the whole last element.
func InterfaceFromPath(path string) (string, bool) {
	name, ok := strings.CutSuffix(path[strings.LastIndexByte(path, '/')+1:], ".conf")
	return name, ok && IsInterfaceName(name)
}
