package dns

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/sysexec"
)

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func manager(t *testing.T, have map[string]bool, order string, resolved bool) *Manager {
	t.Helper()
	dir := t.TempDir()
	m := &Manager{
		Exec:            &sysexec.Recorder{},
		InterfaceOrder:  filepath.Join(dir, "interface-order"),
		ResolvedRunning: func() bool { return resolved },
		LookPath: func(name string) (string, bool) {
			if !have[name] {
				return "", false
			}
			// a regular file, not a symlink
			p := filepath.Join(dir, name)
			os.WriteFile(p, nil, 0o755)
			return p, true
		},
	}
	if order != "" {
		os.WriteFile(m.InterfaceOrder, []byte(order), 0o644)
	}
	return m
}

func TestResolvconf(t *testing.T) {
	m := manager(t, map[string]bool{"resolvconf": true}, "lo.inet6\nlo.inet\ntun*\ntap*\n*\n", false)
	steps := m.SetSteps("wg0", addrs("10.0.0.53", "fd00::53"), []string{"example.com", "corp.example"})
	if len(steps) != 1 || steps[0].String() != "resolvconf -a tun.wg0 -m 0 -x" {
		t.Fatalf("steps = %v", steps)
	}
	if diff := cmp.Diff("nameserver 10.0.0.53\nnameserver fd00::53\nsearch example.com corp.example\n", steps[0].Stdin); diff != "" {
		t.Errorf("resolvconf input (-want +got):\n%s", diff)
	}
	if u := m.UnsetSteps("wg0"); len(u) != 1 || u[0].String() != "resolvconf -d tun.wg0 -f" {
		t.Errorf("unset = %v", u)
	}
	// Search domains alone are ignored, as in wg-quick.
	if s := m.SetSteps("wg0", nil, []string{"example.com"}); s != nil {
		t.Errorf("search domains alone gave %v", s)
	}
}

func TestResolvconfNoInterfaceOrder(t *testing.T) {
	m := manager(t, map[string]bool{"resolvconf": true}, "", false)
	if got := m.Record("wg0"); got != "wg0" {
		t.Errorf("Record = %q, want wg0 (no interface-order file)", got)
	}
}

func TestResolved(t *testing.T) {
	m := manager(t, map[string]bool{"resolvectl": true}, "", true)
	var got []string
	for _, s := range m.SetSteps("wg0", addrs("10.0.0.53"), []string{"example.com"}) {
		got = append(got, s.String())
	}
	if diff := cmp.Diff([]string{"resolvectl dns wg0 10.0.0.53", "resolvectl domain wg0 example.com"}, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if u := m.UnsetSteps("wg0"); len(u) != 1 || u[0].String() != "resolvectl revert wg0" {
		t.Errorf("unset = %v", u)
	}
}

func TestCheck(t *testing.T) {
	none := manager(t, map[string]bool{"resolvectl": true}, "", false) // resolved not running
	if err := none.Check(addrs("10.0.0.53")); err != ErrNoResolver {
		t.Errorf("Check = %v, want ErrNoResolver", err)
	}
	if err := none.Check(nil); err != nil {
		t.Errorf("Check without servers = %v", err)
	}
}
