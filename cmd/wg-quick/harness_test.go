package main

// The harness for the privileged end-to-end tests of wg-quick
// (equivalence_test.go, fulltunnel_test.go): it builds our binaries, runs
// our wg-quick or the installed reference in a network namespace with a fake
// resolvconf first in PATH, snapshots a namespace's routing state, and makes
// sure no device, daemon or socket outlives a test. Its names start with
// "eq" so that they cannot clash with the other test files of the package.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wgtools/wgtools/internal/nettest"
)

// eqRefWG is the reference wg (Debian's wireguard-tools 1.0.20210914),
// named by its pinned path (nettest.Reference checks it in
// eqRequireTools).
var eqRefWG = nettest.ReferenceDir + "/wg"

const (
	// eqRunTimeout bounds one wg-quick run; a reference up that starts
	// wireguard-go takes about a second.
	eqRunTimeout = 60 * time.Second
)

// waitDelay bounds how long a finished command's pipes may stay open,
// for example held by a daemon it started.
const waitDelay = 2 * time.Second

// runIn runs a program in ns with env as its whole environment, in dir
// ("" for the test's), its output going to stdout and stderr, bounded by
// timeout. timedOut says the bound cut it short.
func runIn(ns *nettest.NetNS, timeout time.Duration, env []string, dir string, stdout, stderr io.Writer, name string, args ...string) (timedOut bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := ns.Command(ctx, name, args...)
	cmd.Env, cmd.Dir = env, dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = waitDelay
	err = cmd.Run()
	if ctx.Err() != nil {
		return true, fmt.Errorf("%s: timed out after %v", cmd, timeout)
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", cmd, err)
	}
	return false, nil
}

// The harness every end-to-end test here uses. Its base (below, without a
// prefix) runs programs in namespaces, fakes resolvconf, and checks that
// an interface and everything of it is gone; on it sit the side-by-side
// comparison with the reference (eq*, this file) and the topologies of
// hosts (scenario and node, scenario_helpers_test.go).
const (
	// daemonExitTimeout bounds how long a userspace daemon may take to
	// exit, removing its socket, once its interface is deleted.
	daemonExitTimeout = 10 * time.Second
	// poll is how often bounded waits look again.
	poll = 20 * time.Millisecond

	// socketDir and stateDir are shared by all namespaces: the UAPI
	// sockets of userspace devices and our wg-quick's journals and locks.
	socketDir = "/var/run/wireguard"
	stateDir  = "/run/wgtools"
)

// eqTools are the programs the end-to-end tests run.
type eqTools struct {
	ourQuick, ourWG string // this module's, from nettest.OurBinary
	refQuick, refWG string // the installed reference
}

// eqRequireTools checks the prerequisites of the end-to-end tests (root,
// TUN, ip, nft, bash, ping, wireguard-go, the reference wg and wg-quick),
// builds our wg-quick and wg (or takes the prebuilt ones, see
// nettest.OurBinary) and returns the paths. In CI a missing prerequisite fails the test.
func eqRequireTools(t *testing.T) eqTools {
	t.Helper()
	nettest.RequireRoot(t)
	nettest.RequireTUN(t)
	for _, name := range []string{"ip", "nft", "bash", "ping", "sysctl", "wireguard-go"} {
		nettest.RequireBinary(t, name)
	}
	refQuick, refWG := nettest.Reference(t, "wg-quick"), nettest.Reference(t, "wg")
	// The reference puts its own directory first in PATH, so a resolvconf
	// there would beat the fake one and change the host's resolv.conf.
	if _, err := os.Stat(filepath.Join(filepath.Dir(refQuick), "resolvconf")); err == nil {
		t.Fatalf("%s/resolvconf exists: the reference wg-quick would run it instead of the fake one and change the host's DNS", filepath.Dir(refQuick))
	}

	tools := eqTools{
		ourQuick: nettest.OurBinary(t, "wg-quick"),
		ourWG:    nettest.OurBinary(t, "wg"),
		refQuick: refQuick,
		refWG:    refWG,
	}
	return tools
}

// eqSide is one wg-quick (ours or the reference) managing one interface in
// one namespace, with its own directory for the configuration file, the
// fake resolvconf and its log, and the files the test's hooks write.
type eqSide struct {
	label  string // "reference" or "ours", for messages
	quick  string // the wg-quick to run
	ns     *nettest.NetNS
	ifname string
	dir    string
	conf   string // dir/ifname.conf
	env    []string
	// randomPort says the configuration sets no ListenPort, so the device
	// picked a random one.
	randomPort bool
	// dropEmptyTables makes snapshots leave out nftables tables without
	// rules (iptables-nft's, left behind by the iptables fallback).
	dropEmptyTables bool
}

// eqNewSide prepares a side and registers its teardown, which runs before
// the namespace's (register ns first). extraEnv is added to the
// environment; PATH starts with the fake resolvconf.
func eqNewSide(t *testing.T, label, quick string, extraEnv []string, ns *nettest.NetNS, ifname string) *eqSide {
	t.Helper()
	s := &eqSide{label: label, quick: quick, ns: ns, ifname: ifname, dir: t.TempDir()}
	s.conf = filepath.Join(s.dir, ifname+".conf")
	bin := filepath.Join(s.dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "resolvconf"), []byte(fakeResolvconf(s.dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "LOG_LEVEL", "WG_QUICK_USERSPACE_IMPLEMENTATION", "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD", "WG_ENDPOINT_RESOLUTION_RETRIES":
			continue
		}
		s.env = append(s.env, kv)
	}
	s.env = append(s.env, "PATH="+bin+":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	s.env = append(s.env, extraEnv...)
	t.Cleanup(func() { s.teardown(t) })
	return s
}

// fakeResolvconf is a resolvconf that changes nothing outside dir: it
// logs each call and its standard input to dir/resolvconf.log, keeps the
// records given with -a (so that -l, as `wg-quick save` uses it, prints
// their nameserver lines) and always succeeds.
func fakeResolvconf(dir string) string {
	return `#!/bin/bash
# Fake resolvconf written by the wg-quick tests: never touches /etc.
log=` + strconv.Quote(dir+"/resolvconf.log") + `
records=` + strconv.Quote(dir+"/resolvconf.d") + `
printf 'resolvconf %s\n' "$*" >> "$log"
case $1 in
-a)
	mkdir -p "$records"
	cat > "$records/$2"
	cat "$records/$2" >> "$log"
	echo "(end of stdin)" >> "$log" ;;
-d)
	rm -f "$records/$2" ;;
-l)
	[[ -f $records/$2 ]] && grep '^nameserver' "$records/$2" ;;
esac
exit 0
`
}

// writeConfig writes the configuration with mode 0600 (the reference warns
// about world-readable files), replacing {{DIR}} with the side's directory.
func (s *eqSide) writeConfig(t *testing.T, text string) {
	t.Helper()
	text = strings.ReplaceAll(text, "{{DIR}}", s.dir)
	if err := os.WriteFile(s.conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s.randomPort = !regexp.MustCompile(`(?mi)^\s*ListenPort\s*=`).MatchString(text)
}

// run runs `wg-quick VERB CONF` in the side's namespace and returns its
// stderr (where the `[#]` transcript goes) and error. It fails the test if
// wg-quick outlives eqRunTimeout.
func (s *eqSide) run(t *testing.T, verb string, opts ...string) (stderr string, err error) {
	t.Helper()
	_, stderr, err = s.runOut(t, verb, opts...)
	return stderr, err
}

// runOut is run that also returns wg-quick's stdout (save --dry-run's
// diff).
func (s *eqSide) runOut(t *testing.T, verb string, opts ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	args := append(append([]string{verb}, opts...), s.conf)
	timedOut, err := runIn(s.ns, eqRunTimeout, s.env, s.dir, &out, &errOut, s.quick, args...)
	if timedOut {
		t.Fatalf("%s wg-quick %s: timed out after %v\nstderr:\n%s", s.label, verb, eqRunTimeout, errOut.String())
	}
	if err != nil {
		err = fmt.Errorf("%s wg-quick %s: %w\nstdout:\n%s\nstderr:\n%s", s.label, verb, err, out.String(), errOut.String())
	}
	return out.String(), errOut.String(), err
}

// mustRun is run that fails the test on error.
func (s *eqSide) mustRun(t *testing.T, verb string, opts ...string) string {
	t.Helper()
	stderr, err := s.run(t, verb, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return stderr
}

// linkExists reports whether the side's interface exists in its namespace.
func (s *eqSide) linkExists(t *testing.T) bool {
	t.Helper()
	return eqLinkExists(t, s.ns, s.ifname)
}

func eqLinkExists(t *testing.T, ns *nettest.NetNS, ifname string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eqRunTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "-n", ns.Name, "-o", "link", "show", "dev", ifname).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "does not exist") {
		t.Errorf("ip -n %s link show dev %s: %v\n%s", ns.Name, ifname, err, out)
	}
	return err == nil
}

// teardown brings the interface down if a failed test left it up (with the
// side's own wg-quick, else by deleting the link), waits for its userspace
// daemon to exit (killing it if it does not) and removes what the daemon or
// our wg-quick left in the shared directories.
func (s *eqSide) teardown(t *testing.T) {
	if s.linkExists(t) {
		if stderr, err := s.run(t, "down"); err != nil {
			t.Logf("teardown: %v", err)
		} else {
			t.Logf("teardown: %s wg-quick down:\n%s", s.label, stderr)
		}
	}
	eqTeardownIface(t, s.ns, s.ifname)
}

// eqTeardownIface deletes ifname in ns if it still exists, then makes sure
// its userspace daemon is gone and removes its socket, and our wg-quick's
// lock and journal, from the shared directories.
func eqTeardownIface(t *testing.T, ns *nettest.NetNS, ifname string) {
	if eqLinkExists(t, ns, ifname) {
		if out, err := exec.Command("ip", "-n", ns.Name, "link", "delete", "dev", ifname).CombinedOutput(); err != nil {
			t.Errorf("teardown: deleting %s: %v\n%s", ifname, err, out)
		}
	}
	if pids := waitDaemonsGone(ifname, daemonExitTimeout); len(pids) > 0 {
		t.Errorf("teardown: userspace daemons %v of %s still running %v after the link was deleted; killing them", pids, ifname, daemonExitTimeout)
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		waitDaemonsGone(ifname, daemonExitTimeout)
	}
	for _, p := range append([]string{filepath.Join(socketDir, ifname+".sock")}, stateFiles(ifname)...) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("teardown: %v", err)
		}
		// A test namespace's state directory goes with its last file.
		if d := filepath.Dir(p); strings.HasPrefix(filepath.Base(d), "netns-") {
			_ = os.Remove(d)
		}
	}
}

// stateFiles lists our wg-quick's journal and lock files of ifname, in
// whichever namespace's directory they are (quick.NamespaceStateDir).
func stateFiles(ifname string) []string {
	var files []string
	for _, pat := range []string{"%s/%s.*", "%s/netns-*/%s.*"} {
		m, _ := filepath.Glob(fmt.Sprintf(pat, stateDir, ifname))
		files = append(files, m...)
	}
	return files
}

// daemons returns the userspace WireGuard daemons serving ifname:
// processes of wireguard-go or of a wg-quick (our `wg-quick userspace`) with
// ifname among their arguments. Interface names come from
// nettest.UniqueIfName, so no other process matches.
func daemons(ifname string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue // gone, or a zombie
		}
		args := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
		prog := filepath.Base(args[0])
		if (prog == "wireguard-go" || prog == "wg-quick") && slices.Contains(args[1:], ifname) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitDaemonsGone waits until no daemon serves ifname, at most timeout,
// and returns those still running.
func waitDaemonsGone(ifname string, timeout time.Duration) []int {
	deadline := time.Now().Add(timeout)
	for {
		pids := daemons(ifname)
		if len(pids) == 0 || time.Now().After(deadline) {
			return pids
		}
		time.Sleep(poll)
	}
}

// requireGone fails the test unless the side's interface and everything
// of it is gone (see requireIfaceGone).
func (s *eqSide) requireGone(t *testing.T) {
	t.Helper()
	requireIfaceGone(t, s.label, s.ns, s.ifname)
}

// requireIfaceGone fails the test unless, after a down, the interface is
// gone with everything of it: the link, its userspace daemons and their
// socket (waiting up to daemonExitTimeout, as a daemon exits only once it
// sees its link gone) and our journal. label names the side or host.
func requireIfaceGone(t *testing.T, label string, ns *nettest.NetNS, ifname string) {
	t.Helper()
	if eqLinkExists(t, ns, ifname) {
		t.Errorf("%s: %s still exists after down", label, ifname)
	}
	if pids := waitDaemonsGone(ifname, daemonExitTimeout); len(pids) > 0 {
		t.Errorf("%s: userspace daemons %v of %s still running %v after down", label, pids, ifname, daemonExitTimeout)
	}
	sock := filepath.Join(socketDir, ifname+".sock")
	deadline := time.Now().Add(daemonExitTimeout)
	for {
		_, err := os.Lstat(sock)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: %s still exists %v after down (err=%v)", label, sock, daemonExitTimeout, err)
			break
		}
		time.Sleep(poll)
	}
	for _, f := range stateFiles(ifname) {
		if strings.HasSuffix(f, ".json") {
			t.Errorf("%s: journal %s still there after down", label, f)
		}
	}
}

// eqUnderlay joins ns to peer with a veth pair, "under0" in ns with
// 192.0.2.2/24 and 2001:db8:2::2/64 and peerEnd in peer with .1 and ::1,
// and gives under0 an MTU of 1400 so that wg-quick's MTU detection has
// something to find (1400 − 80 = 1320). Duplicate address detection is
// turned off in both namespaces first: otherwise the link-local address of
// a veth is "tentative" for a second or two, and a snapshot taken then
// differs from a later one.
func eqUnderlay(t *testing.T, ns *nettest.NetNS, peer *nettest.NetNS, peerEnd string) {
	t.Helper()
	for _, n := range []*nettest.NetNS{ns, peer} {
		n.Run(t, "sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
	}
	nettest.Veth(t, ns, "under0", "192.0.2.2/24", peer, peerEnd, "192.0.2.1/24")
	ns.Run(t, "ip", "-6", "address", "add", "2001:db8:2::2/64", "dev", "under0", "nodad")
	peer.Run(t, "ip", "-6", "address", "add", "2001:db8:2::1/64", "dev", peerEnd, "nodad")
	ns.Run(t, "ip", "link", "set", "dev", "under0", "mtu", "1400")
}

// eqState is the network state of a namespace that wg-quick changes,
// normalised by eqNormalizer.
type eqState struct {
	Addresses    string // ip -o address
	Routes4      string // ip -4 route show table all, lines sorted
	Routes6      string // ip -6 route show table all, lines sorted
	Rules4       string // ip -4 rule
	Rules6       string // ip -6 rule
	Nftables     string // nft list ruleset
	Link         string // flags, MTU and state of the WireGuard link, or "absent"
	WGConf       string // wg showconf by the reference wg, peers sorted, or "absent"
	SrcValidMark string // net.ipv4.conf.all.src_valid_mark
}

// eqNormalizer turns one side's output into text comparable with the other
// side's. Each rule is named and justified where it is applied.
type eqNormalizer struct {
	names      []string // replaced in order: [old, new, old, new, …]
	randomPort bool
}

func (s *eqSide) normalizer() eqNormalizer {
	return eqNormalizer{names: []string{s.dir, "$DIR", s.ifname, "IF"}, randomPort: s.randomPort}
}

var (
	eqIfindexRE    = regexp.MustCompile(`(?m)^\d+: `)
	eqLinkLocalRE  = regexp.MustCompile(`fe80::[0-9a-f:]*[0-9a-f]`)
	eqListenPortRE = regexp.MustCompile(`(?m)^ListenPort = \d+$`)
	eqLinkRE       = regexp.MustCompile(`<([^>]*)> mtu (\d+) .*\bstate (\S+)`)
)

// text applies the normalisations every snapshot and transcript needs.
func (n eqNormalizer) text(s string) string {
	for i := 0; i+1 < len(n.names); i += 2 {
		// Interface names: both interfaces live in the same socket
		// directory, so they cannot share a name. The per-side directory
		// (hook marker files, fake resolvconf) differs for the same reason.
		s = strings.ReplaceAll(s, n.names[i], n.names[i+1])
	}
	// IPv6 link-local addresses: derived from a random MAC (veth) or a
	// random secret (TUN, addr_gen_mode random), so never the same twice.
	return eqLinkLocalRE.ReplaceAllString(s, "fe80::LL")
}

// eqSnapshot records the namespace state of a side.
func eqSnapshot(t *testing.T, s *eqSide) eqState {
	t.Helper()
	st := eqSnapshotNS(t, s.ns, s.ifname, s.normalizer())
	if s.dropEmptyTables {
		st.Nftables = eqDropEmptyTables(st.Nftables)
	}
	return st
}

// eqSnapshotNS records the state of ns for the WireGuard interface ifname.
func eqSnapshotNS(t *testing.T, ns *nettest.NetNS, ifname string, n eqNormalizer) eqState {
	t.Helper()
	eqWaitDAD(t, ns)
	// Interface indexes: they count every link ever created in the
	// namespace, so they differ between the namespaces and between an
	// interface and its re-creation.
	addrs := eqIfindexRE.ReplaceAllString(n.text(ns.Run(t, "ip", "-o", "address")), "")
	st := eqState{
		Addresses: addrs,
		// Line order in route dumps: routes with the same prefix
		// (the local fe80::LL routes) are ordered by the real, random
		// address. Routes carry no ifindex and need no proto or metric
		// normalisation: ours adds them as ip(8) does (proto boot, which
		// ip does not print; the kernel's default metric).
		Routes4:      eqSortLines(n.text(ns.Run(t, "ip", "-4", "route", "show", "table", "all"))),
		Routes6:      eqSortLines(n.text(ns.Run(t, "ip", "-6", "route", "show", "table", "all"))),
		Rules4:       n.text(ns.Run(t, "ip", "-4", "rule")),
		Rules6:       n.text(ns.Run(t, "ip", "-6", "rule")),
		Nftables:     n.text(ns.Run(t, "nft", "list", "ruleset")),
		SrcValidMark: strings.TrimSpace(ns.Run(t, "sysctl", "-n", "net.ipv4.conf.all.src_valid_mark")),
		Link:         "absent",
		WGConf:       "absent",
	}
	if eqLinkExists(t, ns, ifname) {
		out := ns.Run(t, "ip", "-o", "link", "show", "dev", ifname)
		m := eqLinkRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("cannot parse ip link output: %q", out)
		}
		st.Link = fmt.Sprintf("<%s> mtu %s state %s", m[1], m[2], m[3])
		st.WGConf = n.showconf(ns.Run(t, eqRefWG, "showconf", ifname))
	}
	return st
}

// eqDADTimeout bounds how long a snapshot waits for duplicate address
// detection.
const eqDADTimeout = 10 * time.Second

// eqWaitDAD waits, at most eqDADTimeout, until no IPv6 address on a link
// that is up is still "tentative". An address added to a running link
// (wg-quick's, or one a rollback put back) is tentative until the kernel's
// DAD work has run, which is at once on an idle machine and can take a
// second on a busy one; a snapshot taken in between differs from one taken
// after by that flag alone. Addresses on a link that is down stay tentative
// and are left alone (the "up" filter).
func eqWaitDAD(t *testing.T, ns *nettest.NetNS) {
	t.Helper()
	deadline := time.Now().Add(eqDADTimeout)
	for strings.TrimSpace(ns.Run(t, "ip", "-6", "-o", "address", "show", "tentative", "up")) != "" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// showconf sorts the peers of `wg showconf` output: the order of peers
// from a userspace device is the order of a Go map, and one run's order
// says nothing about the next.
func (n eqNormalizer) showconf(s string) string {
	s = n.text(s)
	if n.randomPort {
		// ListenPort: without one in the file the device picks a random
		// port.
		s = eqListenPortRE.ReplaceAllString(s, "ListenPort = RANDOM")
	}
	blocks := strings.Split(s, "\n[Peer]\n")
	slices.Sort(blocks[1:])
	return strings.Join(blocks, "\n[Peer]\n")
}

func eqSortLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// eqEffects are the outputs of a side's hooks and DNS changes: the fake
// resolvconf's log and the files the hooks wrote, normalised.
type eqEffects struct {
	Resolvconf string
	HookFiles  string // "name: content" of every hook-* file
}

func eqReadEffects(t *testing.T, s *eqSide) eqEffects {
	t.Helper()
	n := s.normalizer()
	var e eqEffects
	if data, err := os.ReadFile(filepath.Join(s.dir, "resolvconf.log")); err == nil {
		e.Resolvconf = n.text(string(data))
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(s.dir, "hook-*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		e.HookFiles += n.text(filepath.Base(f) + ": " + string(data))
	}
	return e
}

// eqTranscript returns the `[#] …` command lines (without the prefix) and
// the `[!] …` warnings of a wg-quick run, normalised. Everything else on
// stderr is the output of the commands themselves (ip's "Unknown device
// type", wireguard-go's banner), which ours, doing the work in-process,
// does not have.
func eqTranscript(stderr string, n eqNormalizer) []string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		switch {
		case strings.HasPrefix(l, "[#] "):
			lines = append(lines, n.text(strings.TrimPrefix(l, "[#] ")))
		case strings.HasPrefix(l, "[!] "):
			lines = append(lines, n.text(l))
		}
	}
	return lines
}
