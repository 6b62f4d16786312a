package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/faultinject"
	"github.com/wgtools/wgtools/internal/nettest"
)

// faultConfig is a full tunnel on both families with everything up can
// do: two addresses, DNS servers and a search domain, auto MTU, an extra
// peer with routes of both families, PreUp and PostUp hooks. Its up
// crosses every kind of step (link, hooks, device, addresses, MTU, DNS,
// table search, rules, firewall, sysctl, routes).
const faultConfig = `[Interface]
PrivateKey = %s
ListenPort = 51820
Address = 10.61.0.2/24, fd61::2/64
DNS = 10.61.0.53, fault.test
PreUp = true
PostUp = true

[Peer]
PublicKey = %s
Endpoint = 192.0.2.1:51820
AllowedIPs = 0.0.0.0/0, ::/0

[Peer]
PublicKey = %s
AllowedIPs = 10.62.0.0/24, fd62::/64
`

// TestUpFaultAtEveryStep makes the Nth call `wg-quick up` makes to the
// system fail, for every N, for real in a network namespace (a wg-quick
// built with the faultinject tag; see internal/faultinject), and then
// delivers SIGINT before each call instead. After every failed or
// interrupted up the namespace must be exactly as before it: addresses,
// routes of all tables, rules, nftables, src_valid_mark, no link, no
// daemon, no socket, no journal, no DNS record left with resolvconf. The
// loop ends at the first N past the last call, where up succeeds; that
// run is brought down and checked the same way.
func TestUpFaultAtEveryStep(t *testing.T) {
	eqRequireTools(t)
	faultQuick := nettest.OurBinary(t, "wg-quick", "faultinject")

	k := faultKeys(t, 3)
	conf := fmt.Sprintf(faultConfig, k[0], k[1].PublicKey(), k[2].PublicKey())

	for _, mode := range []string{"fail", "signal", "fail-iptables"} {
		t.Run(mode, func(t *testing.T) {
			ns := nettest.NewNetNS(t)
			peer := nettest.NewNetNS(t)
			// An underlay with its own MTU, so the MTU step reads routes.
			eqUnderlay(t, ns, peer, "under1")
			s := eqNewSide(t, "ours", faultQuick, nil, ns, nettest.UniqueIfName(t, "wgf"))
			s.writeConfig(t, conf)
			if mode == "fail-iptables" {
				s.env = append(s.env, "WG_QUICK_FIREWALL=iptables")
				// iptables-restore leaves the raw and mangle tables it
				// created, empty, when the rules go (see TestEquivalence).
				s.dropEmptyTables = true
			}
			records := filepath.Join(s.dir, "resolvconf.d")
			before := eqSnapshot(t, s)
			failed, tolerated := 0, 0
			for n := 1; ; n++ {
				if n > 200 {
					t.Fatalf("up still meets the fault at call %d; is the loop counting?", n)
				}
				spec, stderr, code, fired := runFault(t, s, "up", mode == "signal", n)
				if code == 0 {
					// Up may survive a fault in a read it treats as
					// optional, as wg-quick does (`ip route get` failing
					// only leaves the MTU at its default), or a SIGINT
					// that comes after its last check, with all done;
					// it must then come down cleanly like any other up.
					upAndDownCheck(t, s, before, spec+" ("+fired+")")
					if fired != "" {
						tolerated++
						t.Logf("%s: up tolerated %s", spec, fired)
						continue
					}
					if failed == 0 {
						t.Fatalf("up succeeded at the first call; the fault never fired:\n%s", stderr)
					}
					t.Logf("%d calls: %d failed up and were rolled back, %d were tolerated", n-1, failed, tolerated)
					break
				}
				if fired == "" {
					t.Fatalf("%s: up failed (exit %d) without the fault firing:\n%s", spec, code, stderr)
				}
				failed++
				if mode != "signal" && !strings.Contains(stderr, "injected fault at call "+fmt.Sprint(n)) {
					t.Errorf("%s: the error does not name the injected fault:\n%s", spec, stderr)
				}
				if diff := cmp.Diff(before, eqSnapshot(t, s)); diff != "" {
					t.Fatalf("%s (%s): namespace after the failed up (-before +after):\n%s\ntranscript:\n%s", spec, fired, diff, stderr)
				}
				s.requireGone(t)
				if left, _ := os.ReadDir(records); len(left) > 0 {
					t.Fatalf("%s (%s): resolvconf records left: %v\n%s", spec, fired, left, stderr)
				}
				if t.Failed() {
					t.Fatalf("%s (%s): transcript:\n%s", spec, fired, stderr)
				}
			}
		})
	}
}

// upAndDownCheck brings a side that is up down and requires the namespace
// to be as before, except that src_valid_mark stays 1 (wg-quick down
// leaves it, as other tunnels may rely on it); it then restores that too.
func upAndDownCheck(t *testing.T, s *eqSide, before eqState, what string) {
	t.Helper()
	if _, err := s.run(t, "down"); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	upAndDownCheckAfter(t, s, before, what)
}

// faultLine is the line the faultinject build prints when its fault fires.
var faultLine = regexp.MustCompile(`(?m)^\[fault\] .*$`)

// runFault runs `wg-quick VERB` with the Nth call failing (or, with
// signal, SIGINT before it) and returns the fault spec, stderr, the exit
// code and the line saying which call the fault hit ("" if none did).
func runFault(t *testing.T, s *eqSide, verb string, signal bool, n int) (spec, stderr string, code int, fired string) {
	t.Helper()
	spec = fmt.Sprint(n)
	if signal {
		spec = "signal:" + spec
	}
	stderr, code = runWithEnv(t, s, verb, faultinject.EnvVar+"="+spec)
	return spec, stderr, code, faultLine.FindString(stderr)
}

// runWithEnv runs `wg-quick VERB` on the side with extra environment and
// returns its stderr and exit code.
func runWithEnv(t *testing.T, s *eqSide, verb string, env ...string) (string, int) {
	t.Helper()
	saved := s.env
	s.env = append(append([]string(nil), s.env...), env...)
	defer func() { s.env = saved }()
	stderr, err := s.run(t, verb)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return stderr, 0
	case errors.As(err, &ee):
		return stderr, ee.ExitCode()
	default:
		t.Fatal(err)
		return "", -1
	}
}

// TestReloadFaultAtEveryStep does for `wg-quick reload` what
// TestUpFaultAtEveryStep does for up: a running split tunnel (A) is
// reloaded to a full tunnel with other addresses, DNS and peers (B), with
// the Nth call failing (or SIGINT before it), for every N. After each
// failed reload the namespace, the device configuration and the DNS record
// must be A's exactly, and the journal must still describe A: the next
// reload starts from it, and the final down must leave the namespace as it
// was before the first up.
func TestReloadFaultAtEveryStep(t *testing.T) {
	eqRequireTools(t)
	faultQuick := nettest.OurBinary(t, "wg-quick", "faultinject")
	k := faultKeys(t, 4)
	self, p1, p2, p3 := k[0], k[1].PublicKey(), k[2].PublicKey(), k[3].PublicKey()
	confA := fmt.Sprintf(`[Interface]
PrivateKey = %s
ListenPort = 51820
Address = 10.64.0.2/24, fd64::2/64
DNS = 10.64.0.53, a.test

[Peer]
PublicKey = %s
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.65.0.0/24, fd65::/64

[Peer]
PublicKey = %s
AllowedIPs = 10.66.0.0/24
`, self, p1, p2)
	confB := fmt.Sprintf(`[Interface]
PrivateKey = %s
ListenPort = 51820
Address = 10.64.0.3/24, fd64::3/64
DNS = 10.64.0.54, b.test
MTU = 1380

[Peer]
PublicKey = %s
Endpoint = 192.0.2.1:51820
AllowedIPs = 0.0.0.0/0, ::/0

[Peer]
PublicKey = %s
AllowedIPs = 10.67.0.0/24
PersistentKeepalive = 25
`, self, p1, p3)

	for _, mode := range []string{"fail", "signal"} {
		t.Run(mode, func(t *testing.T) {
			ns := nettest.NewNetNS(t)
			peer := nettest.NewNetNS(t)
			eqUnderlay(t, ns, peer, "under1")
			s := eqNewSide(t, "ours", faultQuick, nil, ns, nettest.UniqueIfName(t, "wgk"))
			records := filepath.Join(s.dir, "resolvconf.d")
			dnsRecord := func() string {
				var b strings.Builder
				entries, _ := os.ReadDir(records)
				for _, e := range entries {
					data, _ := os.ReadFile(filepath.Join(records, e.Name()))
					fmt.Fprintf(&b, "%s: %s", e.Name(), data)
				}
				return b.String()
			}
			pristine := eqSnapshot(t, s)
			s.writeConfig(t, confA)
			s.mustRun(t, "up")
			stateA, dnsA := eqSnapshot(t, s), dnsRecord()
			var stateB eqState
			failed, tolerated := 0, 0
			for n := 1; ; n++ {
				if n > 300 {
					t.Fatalf("reload still meets the fault at call %d", n)
				}
				s.writeConfig(t, confB)
				spec, stderr, code, fired := runFault(t, s, "reload", mode == "signal", n)
				if code == 0 {
					st := eqSnapshot(t, s)
					if fired == "" {
						if failed == 0 {
							t.Fatalf("reload succeeded at the first call; the fault never fired:\n%s", stderr)
						}
						stateB = st
						t.Logf("%d calls: %d failed reloads were rolled back, %d tolerated", n-1, failed, tolerated)
						break
					}
					// A fault reload survives (an optional read) must
					// still have reached B; go back to A for the next N.
					tolerated++
					t.Logf("%s: reload tolerated %s", spec, fired)
					s.writeConfig(t, confA)
					s.mustRun(t, "reload")
					// Leaving the full tunnel keeps src_valid_mark, as
					// down does (wg-quick never restores it).
					s.ns.Run(t, "sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark="+stateA.SrcValidMark)
					if diff := cmp.Diff(stateA, eqSnapshot(t, s)); diff != "" {
						t.Fatalf("%s: reload back to A differs from A (-A +now):\n%s", spec, diff)
					}
					continue
				}
				if fired == "" {
					t.Fatalf("%s: reload failed (exit %d) without the fault firing:\n%s", spec, code, stderr)
				}
				failed++
				if diff := cmp.Diff(stateA, eqSnapshot(t, s)); diff != "" {
					t.Fatalf("%s (%s): namespace after the failed reload (-A +now):\n%s\ntranscript:\n%s", spec, fired, diff, stderr)
				}
				if got := dnsRecord(); got != dnsA {
					t.Fatalf("%s (%s): DNS record %q, want A's %q\n%s", spec, fired, got, dnsA, stderr)
				}
			}
			if cmp.Equal(stateA, stateB) {
				t.Fatal("the successful reload left A's state: the test reloads nothing")
			}
			s.mustRun(t, "down")
			after := eqSnapshot(t, s)
			after.SrcValidMark = pristine.SrcValidMark // down leaves it, as wg-quick
			if diff := cmp.Diff(pristine, after); diff != "" {
				t.Errorf("after the final down (-before up +now):\n%s", diff)
			}
			s.requireGone(t)
		})
	}
}

// TestDownFaultAtEveryStep makes the Nth call of `wg-quick down` fail, for
// every N, on the full tunnel of TestUpFaultAtEveryStep. Down goes on past
// a failed step (as wg-quick's does) and exits non-zero, or stops before
// changing anything; either way a second, clean down must finish the job,
// leaving the namespace as before up, with no journal left behind.
func TestDownFaultAtEveryStep(t *testing.T) {
	eqRequireTools(t)
	faultQuick := nettest.OurBinary(t, "wg-quick", "faultinject")
	k := faultKeys(t, 3)
	conf := fmt.Sprintf(faultConfig, k[0], k[1].PublicKey(), k[2].PublicKey())
	ns := nettest.NewNetNS(t)
	peer := nettest.NewNetNS(t)
	eqUnderlay(t, ns, peer, "under1")
	s := eqNewSide(t, "ours", faultQuick, nil, ns, nettest.UniqueIfName(t, "wgd"))
	s.writeConfig(t, conf)
	before := eqSnapshot(t, s)
	failed := 0
	for n := 1; ; n++ {
		if n > 200 {
			t.Fatalf("down still meets the fault at call %d", n)
		}
		s.mustRun(t, "up")
		_, stderr, code, fired := runFault(t, s, "down", false, n)
		if fired == "" {
			if code != 0 {
				t.Fatalf("down %d failed without the fault firing:\n%s", n, stderr)
			}
			t.Logf("%d calls; after a failure at each, a second down finished the job (%d of them failed the first down)", n-1, failed)
			upAndDownCheckAfter(t, s, before, "final")
			break
		}
		if code != 0 {
			failed++
		}
		if s.linkExists(t) || len(stateFiles(s.ifname)) > 0 {
			if out, err := s.run(t, "down"); err != nil {
				t.Fatalf("down %d (%s), then a clean down: %v\n%s\nfirst down:\n%s", n, fired, err, out, stderr)
			}
		}
		upAndDownCheckAfter(t, s, before, fmt.Sprintf("down %d (%s)", n, fired))
	}
}

// upAndDownCheckAfter requires the namespace to be as before up, except
// src_valid_mark, which down leaves at 1 (and which it then puts back).
func upAndDownCheckAfter(t *testing.T, s *eqSide, before eqState, what string) {
	t.Helper()
	after := eqSnapshot(t, s)
	want := before
	want.SrcValidMark = "1"
	if diff := cmp.Diff(want, after); diff != "" {
		t.Fatalf("%s: namespace after down (-want +got):\n%s", what, diff)
	}
	s.requireGone(t)
	s.ns.Run(t, "sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark="+before.SrcValidMark)
}

// faultKeys returns n fresh private keys.
func faultKeys(t *testing.T, n int) []wgtypes.Key {
	t.Helper()
	ks := make([]wgtypes.Key, n)
	for i := range ks {
		k, err := wgtypes.GeneratePrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		ks[i] = k
	}
	return ks
}

// TestReloadKeepsFirewallBackend: an interface brought up on the iptables
// fallback keeps that backend through a reload run without
// WG_QUICK_FIREWALL (nftables would be picked): the reload changes the
// rules of one family and adds the other's, and the final down, which
// removes with the recorded backend, must leave no rule of either. A
// reload that used nftables left tables that down never removed.
func TestReloadKeepsFirewallBackend(t *testing.T) {
	eqRequireTools(t)
	k := faultKeys(t, 2)
	confA := fmt.Sprintf(`[Interface]
PrivateKey = %s
Address = 10.71.0.2/24

[Peer]
PublicKey = %s
Endpoint = 192.0.2.1:51820
AllowedIPs = 0.0.0.0/0
`, k[0], k[1].PublicKey())
	confB := strings.Replace(confA, "Address = 10.71.0.2/24", "Address = 10.71.0.3/24, fd71::3/64", 1)
	confB = strings.Replace(confB, "AllowedIPs = 0.0.0.0/0", "AllowedIPs = 0.0.0.0/0, ::/0", 1)

	ns := nettest.NewNetNS(t)
	peer := nettest.NewNetNS(t)
	eqUnderlay(t, ns, peer, "under1")
	s := eqNewSide(t, "ours", nettest.OurBinary(t, "wg-quick"), nil, ns, nettest.UniqueIfName(t, "wgb"))
	s.dropEmptyTables = true
	before := eqSnapshot(t, s)
	s.writeConfig(t, confA)
	if stderr, code := runWithEnv(t, s, "up", "WG_QUICK_FIREWALL=iptables"); code != 0 {
		t.Fatalf("up on iptables: exit %d\n%s", code, stderr)
	}
	s.writeConfig(t, confB)
	out := s.mustRun(t, "reload")
	if strings.Contains(out, "nft -f") {
		t.Errorf("reload of an interface on iptables used nftables:\n%s", out)
	}
	if rules := s.ns.Run(t, "nft", "list", "ruleset"); strings.Contains(rules, "wg-quick-"+s.ifname) {
		t.Errorf("reload installed nftables tables for %s:\n%s", s.ifname, rules)
	}
	s.mustRun(t, "down")
	upAndDownCheckAfter(t, s, before, "up on iptables, reload, down")
}

// TestHookRunsWgQuickOnItsInterface: a hook may run wg-quick on its own
// interface, as it can with the reference (which has no lock): PostUp and
// PreDown run `wg-quick save` while up and down hold the interface's lock.
// The hook's wg-quick sees that the lock's holder is its ancestor and works
// under it instead of waiting for ever (see flockWait). Both saves happen:
// the file gains the random ListenPort the device picked (PostUp's save
// writes it as the reference does), and PreDown's save finishes (forced:
// PostUp's save changed the file after up read it).
func TestHookRunsWgQuickOnItsInterface(t *testing.T) {
	eqRequireTools(t)
	k := faultKeys(t, 2)
	ns := nettest.NewNetNS(t)
	s := eqNewSide(t, "ours", nettest.OurBinary(t, "wg-quick"), nil, ns, nettest.UniqueIfName(t, "wgh"))
	s.writeConfig(t, fmt.Sprintf(`[Interface]
PrivateKey = %s
Address = 10.73.0.1/24
PostUp = wg-quick save --canonical {{DIR}}/%%i.conf
PreDown = wg-quick save --force {{DIR}}/%%i.conf && touch {{DIR}}/predown-saved

[Peer]
PublicKey = %s
AllowedIPs = 10.73.1.0/24
`, k[0], k[1].PublicKey()))
	before := eqSnapshot(t, s)
	s.mustRun(t, "up")
	saved, err := os.ReadFile(s.conf)
	if err != nil || !strings.Contains(string(saved), "ListenPort = ") || !strings.Contains(string(saved), "PostUp = wg-quick save") {
		t.Fatalf("after up, the file PostUp saved: %v\n%s", err, saved)
	}
	s.mustRun(t, "down")
	if _, err := os.Stat(filepath.Join(s.dir, "predown-saved")); err != nil {
		t.Errorf("PreDown's save did not finish: %v", err)
	}
	requireConverged(t, s, before, true, "up and down with wg-quick in the hooks")
}
