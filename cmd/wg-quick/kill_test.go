package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/nettest"
)

// The kill -9 matrix: `wg-quick up`, `reload`, `down` and `save` are killed
// with SIGKILL just before their Nth call to the system (every netlink
// request, device call, firewall change, command run and every system call
// of a file write; see internal/faultinject), for every N, in a real
// namespace. After each kill the next command must finish the job: the
// namespace ends exactly as a run that was never killed leaves it, and no
// journal, lock, temporary file, socket or process is left over.

// killCounts tallies one verb's matrix for the log: the calls it makes,
// the kills, and the kills after which the next command converged.
type killCounts struct{ steps, stride, killed, converged int }

func (c killCounts) String() string {
	if c.stride > 1 {
		return fmt.Sprintf("under %d steps, killed before every %dth: %d killed, %d converged, leftovers 0", c.steps+1, c.stride, c.killed, c.converged)
	}
	return fmt.Sprintf("%d steps, %d killed, %d converged, leftovers 0", c.steps, c.killed, c.converged)
}

// killStride is how many steps apart the kills are: 1 (every step), or
// WGTOOLS_KILL_STRIDE, with which the VM's kernel stage samples the
// matrix on kernel links (every step there would take a quarter hour).
func killStride(t *testing.T) int {
	v := os.Getenv("WGTOOLS_KILL_STRIDE")
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("WGTOOLS_KILL_STRIDE=%q: want a number from 1", v)
	}
	return n
}

// runKilled runs `wg-quick VERB` with SIGKILL before call n. It reports
// done (the verb ran to its end without reaching call n, so n-1 is its
// number of calls) or requires that the process died by SIGKILL.
func runKilled(t *testing.T, s *eqSide, verb string, n int) (done bool, stderr string) {
	t.Helper()
	stderr, code := runWithEnv(t, s, verb, "WGTOOLS_FAULT_AT=kill:"+fmt.Sprint(n))
	fired := faultLine.FindString(stderr)
	if fired == "" {
		if code != 0 {
			t.Fatalf("%s kill:%d: exit %d without the kill firing:\n%s", verb, n, code, stderr)
		}
		return true, stderr
	}
	if code != -1 || !strings.Contains(fired, "SIGKILL") {
		t.Fatalf("%s kill:%d: exit %d (%s), want death by SIGKILL:\n%s", verb, n, code, fired, stderr)
	}
	return false, stderr
}

// killLeftovers lists what a killed run may have left and the next
// command must have removed: the interface's files in the state
// directories (lock, temporary journals, logs of its applied state other
// than the one its journal names, and the journal and its log when the
// interface is gone) and temporary files beside the configuration.
func killLeftovers(s *eqSide, gone bool) []string {
	var left []string
	for _, pat := range []string{
		filepath.Join(stateDir, "*"+s.ifname+"*"),
		filepath.Join(stateDir, "netns-*", "*"+s.ifname+"*"),
		filepath.Join(s.dir, "."+s.ifname+".conf.tmp*"),
	} {
		m, _ := filepath.Glob(pat)
		for _, f := range m {
			if base := filepath.Base(f); !gone && (base == s.ifname+".json" || base == s.ifname+".applied.conf" || base == journalLog(f, s.ifname)) {
				continue // the running interface's journal, its log and the file it saw
			}
			left = append(left, f)
		}
	}
	return left
}

// journalLog is the name of the applied-state log the journal of ifname
// beside f names ("" if none).
func journalLog(f, ifname string) string {
	data, err := os.ReadFile(filepath.Join(filepath.Dir(f), ifname+".json"))
	if err != nil {
		return ""
	}
	var j struct {
		Log *struct {
			Gen int `json:"gen"`
		} `json:"applied_log"`
	}
	if json.Unmarshal(data, &j) != nil || j.Log == nil {
		return ""
	}
	return fmt.Sprintf("%s.applied.%d.log", ifname, j.Log.Gen)
}

// requireConverged requires the namespace to be want (src_valid_mark
// aside, which down leaves and which the test puts back), nothing left
// over, and, when gone, no link, daemon or socket.
func requireConverged(t *testing.T, s *eqSide, want eqState, gone bool, what string) {
	t.Helper()
	got := eqSnapshot(t, s)
	got.SrcValidMark = want.SrcValidMark
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s: namespace (-want +got):\n%s", what, diff)
	}
	s.ns.Run(t, "sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark="+want.SrcValidMark)
	if gone {
		s.requireGone(t)
	}
	if left := killLeftovers(s, gone); len(left) > 0 {
		t.Fatalf("%s: left over: %v", what, left)
	}
}

// peersSorted is a saved configuration with its [Peer] sections sorted:
// an embedded device lists its peers in no fixed order, so two saves of
// one device differ in that alone.
func peersSorted(text string) string {
	blocks := strings.Split(strings.TrimRight(text, "\n"), "\n\n")
	slices.Sort(blocks[1:])
	return strings.Join(blocks, "\n\n")
}

func TestKillAtEveryStep(t *testing.T) {
	eqRequireTools(t)
	faultQuick := nettest.OurBinary(t, "wg-quick", "faultinject")
	k := faultKeys(t, 4)
	conf := fmt.Sprintf(faultConfig, k[0], k[1].PublicKey(), k[2].PublicKey())
	// confB is what reload goes to: other addresses, DNS, peers, a split
	// tunnel instead of the full one.
	confB := fmt.Sprintf(`[Interface]
PrivateKey = %s
ListenPort = 51820
Address = 10.61.0.3/24, fd61::3/64
DNS = 10.61.0.54, b.test
MTU = 1380

[Peer]
PublicKey = %s
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.63.0.0/24, fd63::/64

[Peer]
PublicKey = %s
AllowedIPs = 10.64.0.0/24
PersistentKeepalive = 25
`, k[0], k[1].PublicKey(), k[3].PublicKey())

	// setup makes a namespace with an underlay and a side in it with conf
	// as its file, and returns the namespace's state before any up.
	setup := func(t *testing.T, prefix string) (*eqSide, eqState) {
		ns := nettest.NewNetNS(t)
		peer := nettest.NewNetNS(t)
		eqUnderlay(t, ns, peer, "under1")
		s := eqNewSide(t, "ours", faultQuick, nil, ns, nettest.UniqueIfName(t, prefix))
		s.writeConfig(t, conf)
		return s, eqSnapshot(t, s)
	}
	// downConverges runs the down that must finish after a kill of verb at
	// n: it may find nothing to take down (the kill came before the link),
	// and must leave the namespace as before.
	downConverges := func(t *testing.T, s *eqSide, before eqState, verb string, n int, stderr string) {
		what := fmt.Sprintf("%s killed at %d, then down", verb, n)
		if out, err := s.run(t, "down"); err != nil && (s.linkExists(t) || !strings.Contains(out, "is not a WireGuard interface")) {
			t.Fatalf("%s: %v\nkilled %s:\n%s", what, err, verb, stderr)
		}
		requireConverged(t, s, before, true, what)
	}
	// matrix kills verb before each call in turn; prepare readies the
	// namespace before each run, converge finishes the job after a kill
	// and checks the result.
	matrix := func(t *testing.T, s *eqSide, verb string, prepare func(n int), converge func(n int, stderr string)) {
		c := killCounts{stride: killStride(t)}
		for n := 1; ; n += c.stride {
			if n > 400 {
				t.Fatalf("%s is still killed at call %d; is the loop counting?", verb, n)
			}
			prepare(n)
			done, stderr := runKilled(t, s, verb, n)
			if done {
				c.steps = n - 1
				break
			}
			c.killed++
			converge(n, stderr)
			c.converged++
		}
		if c.killed == 0 {
			t.Fatalf("%s was never killed", verb)
		}
		t.Logf("kill -9 matrix, %s: %v", verb, c)
	}

	t.Run("up-then-down", func(t *testing.T) {
		s, before := setup(t, "wku")
		matrix(t, s, "up", func(int) {}, func(n int, stderr string) {
			downConverges(t, s, before, "up", n, stderr)
		})
		// The last run was not killed: it must come down like any up.
		s.mustRun(t, "down")
		requireConverged(t, s, before, true, "up, then down")
	})

	// An up of the same name finishes the job too: it takes down what the
	// killed up left (its journal says what) and comes up as a clean up.
	t.Run("up-then-up", func(t *testing.T) {
		s, before := setup(t, "wkv")
		s.mustRun(t, "up")
		upState := eqSnapshot(t, s)
		s.mustRun(t, "down")
		requireConverged(t, s, before, true, "a clean up and down")
		matrix(t, s, "up", func(int) {}, func(n int, stderr string) {
			what := fmt.Sprintf("up killed at %d, then up", n)
			if out, err := s.run(t, "up"); err != nil {
				t.Fatalf("%s: %v\n%s\nkilled up:\n%s", what, err, out, stderr)
			}
			requireConverged(t, s, upState, false, what)
			s.mustRun(t, "down")
			requireConverged(t, s, before, true, what+", then down")
		})
		s.mustRun(t, "down")
		requireConverged(t, s, before, true, "up, then down")
	})

	t.Run("down", func(t *testing.T) {
		s, before := setup(t, "wkd")
		matrix(t, s, "down", func(int) { s.mustRun(t, "up") }, func(n int, stderr string) {
			downConverges(t, s, before, "down", n, stderr)
		})
		requireConverged(t, s, before, true, "down")
	})

	for _, next := range []string{"reload", "down"} {
		t.Run("reload-then-"+next, func(t *testing.T) {
			s, pristine := setup(t, "wkr")
			// The states to converge to: A after up, B after a reload.
			s.mustRun(t, "up")
			stateA := eqSnapshot(t, s)
			s.writeConfig(t, confB)
			s.mustRun(t, "reload")
			stateB := eqSnapshot(t, s)
			s.writeConfig(t, conf)
			s.mustRun(t, "reload")
			requireConverged(t, s, stateA, false, "reload back to A")
			matrix(t, s, "reload", func(int) { s.writeConfig(t, confB) }, func(n int, stderr string) {
				what := fmt.Sprintf("reload killed at %d, then %s", n, next)
				if next == "reload" {
					if out, err := s.run(t, "reload"); err != nil {
						t.Fatalf("%s: %v\n%s\nkilled reload:\n%s", what, err, out, stderr)
					}
					requireConverged(t, s, stateB, false, what)
					s.writeConfig(t, conf)
					s.mustRun(t, "reload")
					requireConverged(t, s, stateA, false, what+", then back to A")
					return
				}
				downConverges(t, s, pristine, "reload", n, stderr)
				s.writeConfig(t, conf)
				s.mustRun(t, "up")
			})
			// The last reload ran to its end.
			requireConverged(t, s, stateB, false, "reload")
			s.mustRun(t, "down")
			requireConverged(t, s, pristine, true, "reload, then down")
		})
	}

	t.Run("save", func(t *testing.T) {
		s, before := setup(t, "wks")
		s.mustRun(t, "up")
		// What save writes: the running device, here with a peer added
		// after up, so that it differs from the file.
		s.ns.Run(t, "wg", "set", s.ifname, "peer", k[3].PublicKey().String(), "allowed-ips", "10.69.0.0/24")
		s.mustRun(t, "save")
		saved, err := os.ReadFile(s.conf)
		if err != nil {
			t.Fatal(err)
		}
		if string(saved) == conf {
			t.Fatal("save wrote the file as it was; the test would not tell old from new")
		}
		upState := eqSnapshot(t, s)
		// Each run starts from the file as up saw it: reload marks it as
		// the applied file again (and keeps the peer, which it did not
		// add). The killed save edits it in place; the next plain save
		// must finish the job, not take the half-done write for an edit
		// of the user's and refuse.
		matrix(t, s, "save", func(int) { s.writeConfig(t, conf); s.mustRun(t, "reload") }, func(n int, stderr string) {
			what := fmt.Sprintf("save killed at %d", n)
			got, err := os.ReadFile(s.conf)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if string(got) != conf && peersSorted(string(got)) != peersSorted(string(saved)) {
				t.Fatalf("%s: the file is neither the old nor the new one:\n%s", what, got)
			}
			if out, err := s.run(t, "save"); err != nil {
				t.Fatalf("%s, then save: %v\n%s", what, err, out)
			}
			if got, _ := os.ReadFile(s.conf); peersSorted(string(got)) != peersSorted(string(saved)) {
				t.Fatalf("%s, then save: the file is not the saved one (-saved +got):\n%s", what, cmp.Diff(string(saved), string(got)))
			}
			// The device is untouched, and no temporary file is left.
			requireConverged(t, s, upState, false, what+", then save")
		})
		s.mustRun(t, "down")
		requireConverged(t, s, before, true, "save, then down")
	})
}
