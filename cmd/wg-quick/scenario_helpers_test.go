package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/nettest"
)

// The scenario tests build topologies of network namespaces, one per host,
// and drive our wg-quick and wg binaries in them exactly as an
// administrator would: `ip netns exec HOST wg-quick up /path/IF.conf`.
// These helpers let a test read as a description of its topology:
//
//	s := newScenario(t)
//	internet := s.newInternet()
//	laptop := s.newNode("laptop")
//	internet.connect(laptop, "eth0")
//	laptop.configure("lap", text)
//	laptop.wgQuickUp()
//	laptop.mustReach("10.0.0.5")
//
// Every wait is bounded, and everything is undone in t.Cleanup even when the
// test fails: interfaces still up are taken down with wg-quick before their
// namespace goes, and anything our interfaces left in the directories that
// all namespaces share (/var/run/wireguard, /run/wgtools) is removed last.

const (
	// scenarioCmdTimeout bounds every command a scenario runs, wg-quick
	// included.
	scenarioCmdTimeout = 30 * time.Second
	// reachTimeout bounds how long mustReach keeps pinging: the first
	// packets start WireGuard handshakes (and ARP, and NAT mappings), so
	// some of them may be lost.
	reachTimeout = 20 * time.Second
	// handshakeTimeout bounds how long waitHandshakes waits.
	handshakeTimeout = 10 * time.Second
	// linkRunningTimeout bounds how long a LAN port waits for its carrier.
	linkRunningTimeout = 5 * time.Second
)

// scenario is one topology under test, with freshly built wg-quick and wg
// binaries.
type scenario struct {
	t       *testing.T
	wgQuick string // our wg-quick
	wg      string // our wg, in the same directory, where hooks find it
	ifaces  []string
}

// newScenario checks the prerequisites and builds wg-quick and wg (see
// nettest.OurBinary). Its cleanup, which runs after every namespace of the
// scenario is gone, removes what our interfaces left in the shared
// directories and fails the test if a daemon of ours still runs.
func newScenario(t *testing.T) *scenario {
	t.Helper()
	nettest.RequireRoot(t)
	nettest.RequireTUN(t)
	for _, prog := range []string{"ip", "ping", "bash", "sysctl", "iptables", "nft"} {
		nettest.RequireBinary(t, prog)
	}
	s := &scenario{t: t, wgQuick: nettest.OurBinary(t, "wg-quick"), wg: nettest.OurBinary(t, "wg")}
	t.Cleanup(s.removeLeftovers)
	return s
}

// removeLeftovers runs after the scenario's namespaces are deleted (which
// kills the processes in them). It removes the UAPI sockets and journals of
// our interfaces that are still there and wg-quick's lock files, which it
// keeps by design. Leftovers other than lock files fail a test that has not
// failed already: the test's own checks after `down` should have caught
// them.
func (s *scenario) removeLeftovers() {
	t := s.t
	if pids := s.waitNoDaemons(); len(pids) > 0 {
		t.Errorf("processes %v still run %s after the scenario", pids, s.wgQuick)
	}
	for _, iface := range s.ifaces {
		for _, path := range append([]string{socketFile(iface)}, stateFiles(iface)...) {
			err := os.Remove(path)
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				t.Errorf("removing leftover %s: %v", path, err)
			case !t.Failed():
				t.Errorf("%s was left behind", path)
			}
			if d := filepath.Dir(path); strings.HasPrefix(filepath.Base(d), "netns-") {
				_ = os.Remove(d) // empty once its lock file is gone
			}
		}
	}
}

// waitNoDaemons waits, at most daemonExitTimeout, until no process runs our
// wg-quick binary, and returns those still running.
func (s *scenario) waitNoDaemons() []int {
	deadline := time.Now().Add(daemonExitTimeout)
	for {
		pids := processesRunning(s.wgQuick)
		if len(pids) == 0 || time.Now().After(deadline) {
			return pids
		}
		time.Sleep(poll)
	}
}

// processesRunning lists the processes whose argv[0] is exe; the embedded
// userspace daemons are exe re-executed as `exe userspace --foreground IF`.
func processesRunning(exe string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue // gone meanwhile
		}
		if argv0, _, _ := strings.Cut(string(cmdline), "\x00"); argv0 == exe {
			pids = append(pids, pid)
		}
	}
	return pids
}

func socketFile(iface string) string { return filepath.Join(socketDir, iface+".sock") }

// journalFile names an interface's journal for messages.
func journalFile(iface string) string { return stateDir + "/[netns-ID/]" + iface + ".json" }

// keyPair is a WireGuard key pair in base64.
type keyPair struct{ private, public string }

// genKeyPair makes a key pair with our `wg genkey` and `wg pubkey`.
func (s *scenario) genKeyPair() keyPair {
	s.t.Helper()
	priv := strings.TrimSpace(s.runWG("", "genkey"))
	return keyPair{private: priv, public: s.pubkey(priv)}
}

// pubkey derives a public key with our `wg pubkey`.
func (s *scenario) pubkey(private string) string {
	s.t.Helper()
	return strings.TrimSpace(s.runWG(private+"\n", "pubkey"))
}

// runWG runs our wg outside any namespace (for key commands only).
func (s *scenario) runWG(stdin string, args ...string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scenarioCmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.wg, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("%s: %v\n%s", cmd, err, stderr.String())
	}
	return string(out)
}

// node is one host of the topology: a network namespace of its own.
type node struct {
	s    *scenario
	t    *testing.T
	name string // the host's role, for messages
	ns   *nettest.NetNS
	dir  string // holds the configuration, the fake resolvconf and its log

	iface string // WireGuard interface, once configured
	conf  string // its configuration file, dir/iface.conf
	isUp  bool   // wg-quick up succeeded and down has not yet
}

// newNode creates a host with a fresh network namespace.
func (s *scenario) newNode(name string) *node {
	s.t.Helper()
	n := &node{s: s, t: s.t, name: name, ns: nettest.NewNetNS(s.t), dir: s.t.TempDir()}
	n.writeFakeResolvconf()
	return n
}

// run runs a command in the node's namespace and fails the test if it
// fails; it returns the combined output.
func (n *node) run(name string, args ...string) string {
	n.t.Helper()
	out, err := n.exec(nil, name, args...)
	if err != nil {
		n.t.Fatalf("%s: %v\n%s", n.name, err, out)
	}
	return out
}

// exec runs a command in the node's namespace with the extra environment
// variables env, and returns its combined output and error.
func (n *node) exec(env []string, name string, args ...string) (string, error) {
	var out bytes.Buffer
	_, err := runIn(n.ns, scenarioCmdTimeout, append(os.Environ(), env...), "", &out, &out, name, args...)
	return out.String(), err
}

// execToFile is exec with the command's stdout and stderr going to a file
// instead of a pipe, for commands that may leave a daemon holding what they
// inherited (a pipe would stay open while it lives); the file's contents
// are returned.
func (n *node) execToFile(env []string, name string, args ...string) (string, error) {
	f, err := os.CreateTemp(n.t.TempDir(), "out")
	if err != nil {
		n.t.Fatal(err)
	}
	defer f.Close()
	_, err = runIn(n.ns, scenarioCmdTimeout, append(os.Environ(), env...), "", f, f, name, args...)
	out, rerr := os.ReadFile(f.Name())
	if rerr != nil {
		n.t.Fatal(rerr)
	}
	return string(out), err
}

// sysctl sets a sysctl in the node's namespace.
func (n *node) sysctl(key, value string) {
	n.t.Helper()
	n.run("sysctl", "-q", "-w", key+"="+value)
}

// ip runs ip(8) in the node's namespace.
func (n *node) ip(args ...string) string {
	n.t.Helper()
	return n.run("ip", args...)
}

// waitRunning waits until the interface is operationally up: the kernel
// turns the carrier on asynchronously, and drops what is sent before.
func (n *node) waitRunning(ifname string) {
	n.t.Helper()
	deadline := time.Now().Add(linkRunningTimeout)
	for {
		var running bool
		err := n.ns.Do(func() error {
			ifi, err := net.InterfaceByName(ifname)
			if err != nil {
				return err
			}
			running = ifi.Flags&net.FlagRunning != 0
			return nil
		})
		if err != nil {
			n.t.Fatalf("%s: %v", n.name, err)
		}
		if running {
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s: %s not running after %v", n.name, ifname, linkRunningTimeout)
		}
		time.Sleep(poll)
	}
}

// writeFakeResolvconf puts a fake resolvconf(8) in the node's directory,
// which is first in PATH for every wg-quick run. It appends its arguments
// and its standard input to dir/resolvconf.log and succeeds: the real one
// would rewrite the host's /etc/resolv.conf, shared by every namespace.
func (n *node) writeFakeResolvconf() {
	n.t.Helper()
	if err := os.WriteFile(filepath.Join(n.dir, "resolvconf"), []byte(fakeResolvconf(n.dir)), 0o755); err != nil {
		n.t.Fatal(err)
	}
}

func (n *node) resolvconfLogPath() string { return filepath.Join(n.dir, "resolvconf.log") }

// resolvconfLog returns what the fake resolvconf recorded so far.
func (n *node) resolvconfLog() string {
	n.t.Helper()
	b, err := os.ReadFile(n.resolvconfLogPath())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		n.t.Fatal(err)
	}
	return string(b)
}

// checkResolvconfLog compares the whole log of the fake resolvconf.
func (n *node) checkResolvconfLog(want string) {
	n.t.Helper()
	if diff := cmp.Diff(want, n.resolvconfLog()); diff != "" {
		n.t.Errorf("%s: unexpected resolvconf calls (-want +got):\n%s", n.name, diff)
	}
}

// resolvconfRecord is the resolvconf record wg-quick uses for iface: the
// name prefixed as resolvconf_iface_prefix in wg-quick's linux.bash does,
// with the first `NAME*` entry of Debian resolvconf's interface-order, when
// that file exists (our fake resolvconf is no symlink). Machines without
// Debian's resolvconf have no such file, and the record is iface.
func resolvconfRecord(iface string) string {
	f, err := os.Open("/etc/resolvconf/interface-order")
	if err != nil {
		return iface
	}
	defer f.Close()
	re := regexp.MustCompile(`^([A-Za-z0-9-]+)\*$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			return m[1] + "." + iface
		}
	}
	return iface
}

// configure names the node's WireGuard interface uniquely (prefix: letters
// only) and writes its configuration to dir/IF.conf with mode 0600, as
// wg-quick expects: the file's base name is the interface name.
func (n *node) configure(prefix, text string) {
	n.t.Helper()
	n.iface = nettest.UniqueIfName(n.t, prefix)
	n.s.ifaces = append(n.s.ifaces, n.iface)
	n.conf = filepath.Join(n.dir, n.iface+".conf")
	if err := os.WriteFile(n.conf, []byte(text), 0o600); err != nil {
		n.t.Fatal(err)
	}
}

// wgQuick runs our wg-quick with verb on the node's configuration file, in
// its namespace, with the fake resolvconf first in PATH.
func (n *node) wgQuick(verb string) (string, error) {
	path := "PATH=" + n.dir + ":" + os.Getenv("PATH")
	return n.exec([]string{path}, n.s.wgQuick, verb, n.conf)
}

// wgQuickUp brings the node's interface up. Until wgQuickDown, a cleanup,
// which runs before the namespace is deleted, takes it down again.
func (n *node) wgQuickUp() {
	n.t.Helper()
	out, err := n.wgQuick("up")
	if err != nil {
		n.t.Fatalf("%s: wg-quick up: %v\n%s", n.name, err, out)
	}
	n.t.Logf("%s: wg-quick up %s:\n%s", n.name, n.conf, out)
	if !n.isUp {
		n.isUp = true
		n.t.Cleanup(func() {
			if !n.isUp {
				return
			}
			if out, err := n.wgQuick("down"); err != nil {
				n.t.Errorf("%s: cleanup: wg-quick down: %v\n%s", n.name, err, out)
			}
		})
	}
}

// wgQuickDown takes the node's interface down.
func (n *node) wgQuickDown() {
	n.t.Helper()
	out, err := n.wgQuick("down")
	if err != nil {
		n.t.Fatalf("%s: wg-quick down: %v\n%s", n.name, err, out)
	}
	n.isUp = false
	n.t.Logf("%s: wg-quick down %s:\n%s", n.name, n.conf, out)
}

// wgShow runs our `wg show IF FIELD` in the node's namespace and returns
// its lines as public key → value.
func (n *node) wgShow(field string) map[string]string {
	n.t.Helper()
	out := n.run(n.s.wg, "show", n.iface, field)
	m := make(map[string]string)
	for line := range strings.Lines(out) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok {
			n.t.Fatalf("%s: wg show %s %s: unexpected line %q", n.name, n.iface, field, line)
		}
		m[k] = v
	}
	return m
}

// waitHandshakes waits, at most handshakeTimeout, until the node's
// interface has completed a handshake with each of the peers (public keys),
// as our `wg show IF latest-handshakes` reports.
func (n *node) waitHandshakes(peers map[string]string) {
	n.t.Helper()
	deadline := time.Now().Add(handshakeTimeout)
	for {
		got := n.wgShow("latest-handshakes")
		var missing []string
		for name, key := range peers {
			if ts, ok := got[key]; !ok || ts == "0" {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			slices.Sort(missing)
			n.t.Fatalf("%s: no handshake with %v within %v; wg show %s latest-handshakes: %v", n.name, missing, handshakeTimeout, n.iface, got)
		}
		time.Sleep(poll)
	}
}

// routes returns the node's IPv4 routes through dev in the main table, one
// per line, whitespace normalised.
func (n *node) routes(dev string) []string {
	n.t.Helper()
	var routes []string
	for line := range strings.Lines(n.ip("-4", "route", "show", "dev", dev)) {
		routes = append(routes, strings.Join(strings.Fields(line), " "))
	}
	return routes
}

// netState renders what wg-quick may change in the node's namespace apart
// from its own link: the IPv4 routes of every table, the policy rules and
// the nftables ruleset. IPv6 routes are left out: link-local addresses come
// and go asynchronously on the underlay links.
func (n *node) netState() string {
	n.t.Helper()
	return "# ip -4 route show table all\n" + n.ip("-4", "route", "show", "table", "all") +
		"# ip -4 rule\n" + n.ip("-4", "rule") +
		"# ip -6 rule\n" + n.ip("-6", "rule") +
		"# nft list ruleset\n" + n.run("nft", "list", "ruleset")
}

// checkDown checks that nothing of the node's interface is left after
// `wg-quick down`: no link, no route (IPv4 or IPv6) through it, the
// namespace otherwise as it was before `up` (before, from netState), no
// UAPI socket, journal or daemon.
func (n *node) checkDown(before string) {
	n.t.Helper()
	for _, fam := range []string{"-4", "-6"} {
		out := n.ip(fam, "route", "show", "table", "all")
		for line := range strings.Lines(out) {
			if slices.Contains(strings.Fields(line), n.iface) {
				n.t.Errorf("%s: route through %s left after down: %s", n.name, n.iface, strings.TrimSpace(line))
			}
		}
	}
	if diff := cmp.Diff(before, n.netState()); diff != "" {
		n.t.Errorf("%s: routes, rules or firewall differ after down from before up (-before +after):\n%s", n.name, diff)
	}
	requireIfaceGone(n.t, n.name, n.ns, n.iface)
}

// daemonPIDs lists the processes running the embedded userspace device for
// the node's interface: `wg-quick userspace --foreground IF`.
func (n *node) daemonPIDs() []int {
	var pids []int
	for _, pid := range processesRunning(n.s.wgQuick) {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if slices.Contains(args, "userspace") && args[len(args)-1] == n.iface {
			pids = append(pids, pid)
		}
	}
	return pids
}
