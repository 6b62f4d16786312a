package quick

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgtools/wgtools/internal/nettest"
)

// TestNamespaceStateDir: the host's namespace keeps StateDir; two other
// namespaces get two different directories under it, each stable.
func TestNamespaceStateDir(t *testing.T) {
	nettest.RequireRoot(t)
	self, err := os.Stat("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	// PID 1's namespace is unreadable in some sandboxes (this project's
	// CI machine among them); then every namespace is keyed.
	if init, err := os.Stat("/proc/1/ns/net"); err == nil && os.SameFile(self, init) {
		if got := NamespaceStateDir(); got != StateDir {
			t.Errorf("in PID 1's namespace: %q, want %q", got, StateDir)
		}
	}
	var dirs []string
	for range 2 {
		ns := nettest.NewNetNS(t)
		var a, b string
		if err := ns.Do(func() error { a = NamespaceStateDir(); return nil }); err != nil {
			t.Fatal(err)
		}
		if err := ns.Do(func() error { b = NamespaceStateDir(); return nil }); err != nil {
			t.Fatal(err)
		}
		if a != b || filepath.Dir(a) != StateDir || !strings.HasPrefix(filepath.Base(a), "netns-") {
			t.Fatalf("namespace dirs %q, %q: want one stable %s/netns-ID", a, b, StateDir)
		}
		dirs = append(dirs, a)
	}
	if dirs[0] == dirs[1] {
		t.Errorf("two namespaces share %q", dirs[0])
	}
}
