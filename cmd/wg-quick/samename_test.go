package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/nettest"
)

// TestSameNameInTwoNamespaces brings up an interface of the same name in
// two network namespaces that share /run (as `ip netns exec` namespaces
// and containers with only their own network do). Each wg-quick runs with
// its own /run/wireguard bound over the shared one, since the UAPI socket
// path is the protocol's and cannot be keyed. The journals and locks must
// not collide: both ups succeed, taking one down leaves the other's link
// and journal alone, and each down removes only its own journal.
func TestSameNameInTwoNamespaces(t *testing.T) {
	tools := eqRequireTools(t)
	nettest.RequireBinary(t, "mount")
	name := nettest.UniqueIfName(t, "wgs")
	var sides []*eqSide
	for i := range 2 {
		ns := nettest.NewNetNS(t)
		sockDir := t.TempDir()
		wrapper := filepath.Join(t.TempDir(), "wg-quick")
		script := fmt.Sprintf("#!/bin/sh\n# Runs inside ip netns exec's own mount namespace.\nmount --bind %s /run/wireguard || exit 97\nexec %s \"$@\"\n", sockDir, tools.ourQuick)
		if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		key, err := wgtypes.GeneratePrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		s := eqNewSide(t, fmt.Sprintf("namespace %d", i), wrapper, nil, ns, name)
		s.writeConfig(t, fmt.Sprintf("[Interface]\nPrivateKey = %s\nAddress = 10.63.%d.1/24\nListenPort = 51820\nPostDown = true\n", key, i))
		sides = append(sides, s)
	}
	journals := func() []string {
		var js []string
		for _, f := range stateFiles(name) {
			if strings.HasSuffix(f, ".json") {
				js = append(js, f)
			}
		}
		return js
	}
	for _, s := range sides {
		s.mustRun(t, "up")
	}
	js := journals()
	if len(js) != 2 || filepath.Dir(js[0]) == filepath.Dir(js[1]) {
		t.Fatalf("journals after two ups: %v; want two, in different directories", js)
	}
	sides[0].mustRun(t, "down")
	if sides[0].linkExists(t) || !sides[1].linkExists(t) {
		t.Fatalf("after down in namespace 0: link in 0 %v, in 1 %v; want only 1's", sides[0].linkExists(t), sides[1].linkExists(t))
	}
	if left := journals(); len(left) != 1 {
		t.Fatalf("journals after one down: %v; want namespace 1's", left)
	}
	if out := sides[1].ns.Run(t, "ip", "-o", "-4", "address", "show", "dev", name); !strings.Contains(out, "10.63.1.1/24") {
		t.Errorf("namespace 1's address is gone: %s", out)
	}
	sides[1].mustRun(t, "down")
	if left := journals(); len(left) != 0 {
		t.Errorf("journals after both downs: %v", left)
	}
}
