package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/nettest"
)

// TestUpFailureRestoresNamespace makes `wg-quick up` fail for real, in a
// network namespace, at different points of a full-tunnel up (PreUp, a
// duplicate Address, PostUp after the rules, firewall and sysctl are in
// place) and requires the namespace to be exactly as before: addresses,
// routes of every table, rules, nftables, src_valid_mark, no link, no
// daemon, no socket, no journal. A failing hook's exit status is
// wg-quick's, as under the reference's set -e.
func TestUpFailureRestoresNamespace(t *testing.T) {
	tools := eqRequireTools(t)
	priv, err := exec.Command(tools.ourWG, "genkey").Output()
	if err != nil {
		t.Fatal(err)
	}
	peerPriv, err := exec.Command(tools.ourWG, "genkey").Output()
	if err != nil {
		t.Fatal(err)
	}
	pubCmd := exec.Command(tools.ourWG, "pubkey")
	pubCmd.Stdin = strings.NewReader(string(peerPriv))
	pubOut, err := pubCmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	pub := strings.TrimSpace(string(pubOut))
	base := "[Interface]\nPrivateKey = " + strings.TrimSpace(string(priv)) + "\nListenPort = 51820\nAddress = 10.60.0.2/24, fd60::2/64\nDNS = 10.60.0.53\n%s\n" +
		"[Peer]\nPublicKey = " + pub + "\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 0.0.0.0/0, ::/0\n"
	for _, tt := range []struct {
		name     string
		extra    string
		wantCode int
	}{
		{"failing PreUp", "PreUp = exit 4", 4},
		{"failing PostUp", "PostUp = true\nPostUp = false; echo never", 1},
		{"PostUp exit status", "PostUp = exit 3", 3},
		{"duplicate address", "Address = 10.60.0.2/24", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ns := nettest.NewNetNS(t)
			s := eqNewSide(t, "ours", tools.ourQuick, nil, ns, nettest.UniqueIfName(t, "wgr"))
			t.Cleanup(func() { s.teardown(t) })
			s.writeConfig(t, strings.Replace(base, "%s", tt.extra, 1))
			before := eqSnapshot(t, s)
			stderr, err := s.run(t, "up")
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tt.wantCode {
				t.Fatalf("up: err %v, want exit %d\n%s", err, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, "[#] ip link delete dev "+s.ifname) {
				t.Errorf("no rollback in the transcript:\n%s", stderr)
			}
			if diff := cmp.Diff(before, eqSnapshot(t, s)); diff != "" {
				t.Errorf("namespace after the failed up (-before +after):\n%s\ntranscript:\n%s", diff, stderr)
			}
			s.requireGone(t)
		})
	}
}
