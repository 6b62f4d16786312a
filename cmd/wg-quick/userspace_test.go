package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/nettest"
)

// The userspace tests (project issue 4) drive the embedded userspace device
// through our wg-quick exactly as an administrator on a machine without the
// WireGuard kernel module would: two hosts, each a network namespace, joined
// by a veth (the underlay), each running `wg-quick up`, which falls back to
// re-executing itself as `wg-quick userspace --foreground IF`. They check
// that the tunnel carries real traffic (ping, iperf3), that the reference
// wg(8) reads our devices, that a daemon killed with SIGKILL does not stop
// `down` from restoring the host, that concurrent `up`s of one interface
// cannot both win, and that WG_QUICK_USERSPACE_IMPLEMENTATION still selects
// an external implementation (Debian's wireguard-go).
//
// The helpers of the scenario tests (scenario_helpers_test.go) build the
// binaries, the namespaces and the fake resolvconf; the names this file adds
// start with "us".

// usRefWG is the reference wg(8), named by path so that a build of ours
// in PATH is never mistaken for it.
var usRefWG = nettest.ReferenceDir + "/wg"

const (
	// usUnderlayA and usUnderlayB are the hosts' addresses on the veth,
	// usTunnelA and usTunnelB their addresses in the tunnel.
	usUnderlayA = "10.91.0.1"
	usUnderlayB = "10.91.0.2"
	usTunnelA   = "10.92.0.1"
	usTunnelB   = "10.92.0.2"
	// usPort is both devices' listen port; they are in different
	// namespaces, so they do not clash.
	usPort = 51820

	// usIperfSeconds is how long the iperf3 client sends.
	usIperfSeconds = "2"
	// usIperfPort is iperf3's default port.
	usIperfPort = "5201"
	// usProcTimeout bounds waiting for a process to start (its pid file),
	// to listen, or to exit after a signal; and for a killed daemon's
	// interface to disappear.
	usProcTimeout = 10 * time.Second
	// usConcurrentRounds is how often the concurrent-up race is run.
	usConcurrentRounds = 3
)

// usPair is the topology of every userspace test: hosts a and b, joined by
// a veth "under0" (a: usUnderlayA, b: usUnderlayB), each with a WireGuard
// interface configured to reach the other.
type usPair struct {
	a, b   *node
	ka, kb keyPair
}

// usNewPair builds the two hosts and writes their configurations: b is
// usTunnelB/24 with a as its only peer; a is usTunnelA/24 with b as its
// peer for usTunnelB/32 or, if fullTunnel, for everything (0.0.0.0/0, ::/0,
// Table auto: policy rules, table 51820 and nftables), with DNS = usTunnelB.
// Duplicate address detection is off, so that link-local addresses are
// final at once and snapshots of the namespaces are stable.
func usNewPair(t *testing.T, fullTunnel bool) *usPair {
	t.Helper()
	nettest.Reference(t, "wg")

	s := newScenario(t)
	p := &usPair{a: s.newNode("a"), b: s.newNode("b"), ka: s.genKeyPair(), kb: s.genKeyPair()}
	for _, n := range []*node{p.a, p.b} {
		n.sysctl("net.ipv6.conf.all.accept_dad", "0")
		n.sysctl("net.ipv6.conf.default.accept_dad", "0")
	}
	nettest.Veth(t, p.a.ns, "under0", usUnderlayA+"/24", p.b.ns, "under0", usUnderlayB+"/24")
	for _, n := range []*node{p.a, p.b} {
		usWaitLinkLocal(n, "under0")
	}

	allowed, dns := usTunnelB+"/32", ""
	if fullTunnel {
		allowed, dns = "0.0.0.0/0, ::/0", "DNS = "+usTunnelB+"\n"
	}
	p.a.configure("usa", fmt.Sprintf(`[Interface]
PrivateKey = %s
Address = %s/24
ListenPort = %d
%s
[Peer]
PublicKey = %s
AllowedIPs = %s
Endpoint = %s:%d
`, p.ka.private, usTunnelA, usPort, dns, p.kb.public, allowed, usUnderlayB, usPort))
	p.b.configure("usb", fmt.Sprintf(`[Interface]
PrivateKey = %s
Address = %s/24
ListenPort = %d

[Peer]
PublicKey = %s
AllowedIPs = %s/32
Endpoint = %s:%d
`, p.kb.private, usTunnelB, usPort, p.ka.public, usTunnelA, usUnderlayA, usPort))
	return p
}

// TestUserspaceTunnel brings both hosts up with our wg-quick (embedded
// device), pings across, runs iperf3 through the tunnel, and checks that
// the reference wg(8) reads our device, a peer and a handshake included.
func TestUserspaceTunnel(t *testing.T) {
	nettest.RequireBinary(t, "iperf3")
	nettest.RequireBinary(t, "ss")
	p := usNewPair(t, false)
	beforeA, beforeB := usSnapshot(p.a), usSnapshot(p.b)
	p.a.wgQuickUp()
	p.b.wgQuickUp()
	for _, n := range []*node{p.a, p.b} {
		if pids := n.daemonPIDs(); len(pids) != 1 {
			t.Errorf("%s: want one `wg-quick userspace --foreground %s` daemon, found %v", n.name, n.iface, pids)
		}
	}

	p.a.mustReach(usTunnelB)
	p.b.mustReach(usTunnelA)

	bps := usIperf(t, p.b, p.a, usTunnelB)
	t.Logf("iperf3 through the tunnel: %.1f Mbit/s", bps/1e6)

	p.a.waitHandshakes(map[string]string{"b": p.kb.public})
	for _, side := range []struct {
		n    *node
		peer string
	}{{p.a, p.kb.public}, {p.b, p.ka.public}} {
		out, err := side.n.exec(nil, usRefWG, "show", side.n.iface)
		if err != nil {
			t.Errorf("%s: reference %s show %s: %v\n%s", side.n.name, usRefWG, side.n.iface, err, out)
			continue
		}
		for _, want := range []string{"interface: " + side.n.iface, "peer: " + side.peer, "latest handshake: ", "transfer: "} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: reference wg show %s lacks %q:\n%s", side.n.name, side.n.iface, want, out)
			}
		}
	}

	p.a.wgQuickDown()
	p.b.wgQuickDown()
	usCheckDown(p.a, beforeA)
	usCheckDown(p.b, beforeB)
}

// TestUserspaceKilledDaemon kills the embedded device of a full-tunnel
// interface with SIGKILL. Its TUN interface, and with it the addresses and
// routes, goes with the process; what outlives the link (the policy rules,
// the nftables tables, the DNS record, the journal) is left, and the UAPI
// socket stays behind, stale. What the administrator needs is that
// `wg-quick down` still undoes all of it and a new `up` of the same name
// works. The reference wg-quick cannot do this (its down refuses an
// interface that is gone); ours has the journal for it.
func TestUserspaceKilledDaemon(t *testing.T) {
	t.Run("down then up", func(t *testing.T) {
		p := usNewPair(t, true)
		a := p.a
		before := usSnapshot(a)
		p.b.wgQuickUp()
		a.wgQuickUp()
		a.mustReach(usTunnelB)
		usKillDaemon(a)

		out, err := a.wgQuick("down")
		a.isUp = false // the link is gone; a cleanup down could only repeat this
		t.Logf("a: wg-quick down after SIGKILL: err=%v\n%s", err, out)
		if err != nil {
			t.Errorf("a: wg-quick down after SIGKILL of the daemon failed (%v); the journal %s still lists what up changed:\n%s", err, journalFile(a.iface), out)
		}
		usCheckDown(a, before)
		rec := resolvconfRecord(a.iface)
		a.checkResolvconfLog(fmt.Sprintf("resolvconf -a %s -m 0 -x\nnameserver %s\n(end of stdin)\nresolvconf -d %s -f\n", rec, usTunnelB, rec))

		// The same name again: nothing of the killed daemon may get in
		// the way, and the next down must restore the namespace.
		a.wgQuickUp()
		a.mustReach(usTunnelB)
		a.wgQuickDown()
		usCheckDown(a, before)
	})

	// Straight after the kill, without down: the stale socket (and, here,
	// the stale journal) must not confuse up, and one down must restore
	// the namespace.
	t.Run("up again", func(t *testing.T) {
		p := usNewPair(t, true)
		a := p.a
		before := usSnapshot(a)
		p.b.wgQuickUp()
		a.wgQuickUp()
		a.mustReach(usTunnelB)
		usKillDaemon(a)

		a.wgQuickUp()
		a.mustReach(usTunnelB)
		a.wgQuickDown()
		usCheckDown(a, before)
	})
}

// TestUserspaceConcurrentUp runs two `wg-quick up` of the same
// configuration in the same namespace at once: exactly one may succeed, the
// other must fail saying the interface exists, without harming the
// winner's device. Down then restores the namespace.
func TestUserspaceConcurrentUp(t *testing.T) {
	p := usNewPair(t, false)
	a := p.a
	before := usSnapshot(a)
	p.b.wgQuickUp()
	for round := range usConcurrentRounds {
		var (
			wg   sync.WaitGroup
			outs [2]string
			errs [2]error
		)
		start := make(chan struct{})
		for i := range outs {
			wg.Go(func() {
				<-start
				outs[i], errs[i] = a.wgQuick("up")
			})
		}
		close(start)
		wg.Wait()
		if errs[0] == nil || errs[1] == nil {
			usMarkUp(a)
		}
		var won []int
		for i, err := range errs {
			t.Logf("round %d: up #%d: err=%v\n%s", round, i, err, outs[i])
			if err == nil {
				won = append(won, i)
			}
		}
		if len(won) != 1 {
			t.Fatalf("round %d: %d of 2 concurrent ups succeeded, want exactly 1", round, len(won))
		}
		lost := 1 - won[0]
		if want := fmt.Sprintf("`%s' already exists", a.iface); !strings.Contains(outs[lost], want) {
			t.Errorf("round %d: the losing up says %q, want it to say %q", round, outs[lost], want)
		}
		if pids := a.daemonPIDs(); len(pids) != 1 {
			t.Errorf("round %d: daemons for %s: %v, want exactly one", round, a.iface, pids)
		}
		names := strings.Fields(a.run(usRefWG, "show", "interfaces"))
		if n := len(slices.DeleteFunc(names, func(s string) bool { return s != a.iface })); n != 1 {
			t.Errorf("round %d: reference wg show interfaces lists %s %d times, want once", round, a.iface, n)
		}
		// The loser must not have taken down the winner's device.
		a.mustReach(usTunnelB)
		a.wgQuickDown()
		usCheckDown(a, before)
	}
}

// TestUserspaceExternalImplementation selects Debian's wireguard-go with
// WG_QUICK_USERSPACE_IMPLEMENTATION, as for the reference wg-quick: our
// wg-quick must run it (`[#] wireguard-go IF`) instead of its embedded
// device, the tunnel must work, and down must leave no wireguard-go behind.
//
// With LOG_LEVEL set, wireguard-go's daemon keeps the stdout and stderr it
// inherited and logs there: up must return all the same (it once waited
// for its pipe from wireguard-go to close, i.e. forever), and the log must
// reach wg-quick's own output, as under the reference.
func TestUserspaceExternalImplementation(t *testing.T) {
	nettest.RequireBinary(t, "wireguard-go")
	for _, level := range []string{"", "verbose"} {
		t.Run("LOG_LEVEL="+level, func(t *testing.T) { testExternalImplementation(t, level) })
	}
}

func testExternalImplementation(t *testing.T, level string) {
	p := usNewPair(t, false)
	a := p.a
	before := usSnapshot(a)
	p.b.wgQuickUp()
	t.Cleanup(func() {
		// After a failure, no wireguard-go of ours may outlive the
		// test; deleting the namespace, which runs next, would kill it
		// too.
		for _, pid := range usWireGuardGoPIDs(a.iface) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	env := []string{"WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go", "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1", "LOG_LEVEL=" + level}
	out, err := usQuick(a, env, "up")
	if err != nil {
		t.Fatalf("a: wg-quick up with wireguard-go: %v\n%s", err, out)
	}
	usMarkUp(a)
	t.Logf("a: wg-quick up:\n%s", out)
	if want := "[#] wireguard-go " + a.iface; !slices.Contains(strings.Split(out, "\n"), want) {
		t.Errorf("a: wg-quick up does not print %q", want)
	}
	// wireguard-go's own words, at LOG_LEVEL=verbose only.
	if logged := strings.Contains(out, "UAPI listener started"); logged != (level == "verbose") {
		t.Errorf("a: wireguard-go's log in wg-quick's output: %v, want %v", logged, level == "verbose")
	}
	if pids := usWireGuardGoPIDs(a.iface); len(pids) != 1 {
		t.Errorf("a: wireguard-go processes for %s: %v, want one", a.iface, pids)
	}
	if pids := a.daemonPIDs(); len(pids) != 0 {
		t.Errorf("a: embedded daemons %v run for %s, want none (wireguard-go was asked for)", pids, a.iface)
	}

	a.mustReach(usTunnelB)
	a.waitHandshakes(map[string]string{"b": p.kb.public})

	out, err = usQuick(a, env, "down")
	if err != nil {
		t.Fatalf("a: wg-quick down: %v\n%s", err, out)
	}
	a.isUp = false
	usCheckDown(a, before)
	deadline := time.Now().Add(usProcTimeout)
	for pids := usWireGuardGoPIDs(a.iface); len(pids) > 0; pids = usWireGuardGoPIDs(a.iface) {
		if time.Now().After(deadline) {
			t.Errorf("a: wireguard-go %v still runs %v after down", pids, usProcTimeout)
			break
		}
		time.Sleep(poll)
	}
}

// usState is a snapshot of what wg-quick may change in a namespace:
// netState (IPv4 routes of all tables, policy rules, nftables) for
// checkDown, and the addresses and IPv6 routes it leaves out.
type usState struct {
	net   string
	extra string
}

// usSnapshot takes n's usState.
func usSnapshot(n *node) usState {
	n.t.Helper()
	return usState{
		net: n.netState(),
		extra: "# ip -o address\n" + n.ip("-o", "address") +
			"# ip -6 route show table all\n" + n.ip("-6", "route", "show", "table", "all"),
	}
}

// usCheckDown checks, after down, that n's interface is gone with
// everything it had (checkDown: link, routes, rules, nftables, journal,
// socket, daemon) and that addresses and IPv6 routes are as before up.
func usCheckDown(n *node, before usState) {
	n.t.Helper()
	n.checkDown(before.net)
	if diff := cmp.Diff(before.extra, usSnapshot(n).extra); diff != "" {
		n.t.Errorf("%s: addresses or IPv6 routes differ after down from before up (-before +after):\n%s", n.name, diff)
	}
}

// usWaitLinkLocal waits, at most linkRunningTimeout, until ifname has a
// usable IPv6 link-local address, which the kernel adds asynchronously once
// the link runs, so that it is in every snapshot.
func usWaitLinkLocal(n *node, ifname string) {
	n.t.Helper()
	deadline := time.Now().Add(linkRunningTimeout)
	for {
		out := n.ip("-6", "-o", "address", "show", "dev", ifname, "scope", "link")
		if strings.Contains(out, "fe80:") && !strings.Contains(out, "tentative") {
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s: %s has no usable link-local address after %v:\n%s", n.name, ifname, linkRunningTimeout, out)
		}
		time.Sleep(poll)
	}
}

// usMarkUp records that n's interface is up, as wgQuickUp does, for ups
// the test ran itself: a cleanup then takes it down before the namespace
// goes.
func usMarkUp(n *node) {
	if n.isUp {
		return
	}
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

// usQuick runs our wg-quick with verb on n's configuration, like wgQuick,
// with the extra environment variables env; its output goes through a file
// (execToFile), since the daemon of an external implementation may keep it.
func usQuick(n *node, env []string, verb string) (string, error) {
	return n.execToFile(append([]string{"PATH=" + n.dir + ":" + os.Getenv("PATH")}, env...), n.s.wgQuick, verb, n.conf)
}

// usKillDaemon kills n's embedded daemon with SIGKILL and waits until it is
// gone and its interface with it. The test fails unless exactly one daemon
// ran, and unless its UAPI socket is left behind, stale (a socket file that
// refuses connections): otherwise the test no longer covers a stale
// socket.
func usKillDaemon(n *node) {
	n.t.Helper()
	pids := n.daemonPIDs()
	if len(pids) != 1 {
		n.t.Fatalf("%s: want one `wg-quick userspace --foreground %s` daemon to kill, found %v", n.name, n.iface, pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		n.t.Fatalf("%s: killing daemon %d: %v", n.name, pids[0], err)
	}
	// The link disappears while the dying process is still closing its
	// descriptors (tun_chr_close unlists the link first, then waits for
	// it to be released), and until it has closed the UAPI listener too,
	// the socket still accepts connections. Only then is it stale, as
	// after a crash long ago.
	deadline := time.Now().Add(usProcTimeout)
	for {
		_, linkErr := n.exec(nil, "ip", "link", "show", "dev", n.iface)
		_, dialErr := net.Dial("unix", socketFile(n.iface))
		if !usAlive(pids[0]) && linkErr != nil && errors.Is(dialErr, syscall.ECONNREFUSED) {
			break
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s: %v after SIGKILL of daemon %d: alive %v, link %s still there %v, connecting to the UAPI socket: %v (want it left behind, refusing connections)",
				n.name, usProcTimeout, pids[0], usAlive(pids[0]), n.iface, linkErr == nil, dialErr)
		}
		time.Sleep(poll)
	}
	n.t.Logf("%s: killed daemon %d of %s; link gone, socket stale", n.name, pids[0], n.iface)
}

// usAlive reports whether process pid exists and is not a zombie.
func usAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may
	// itself contain them.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// usWireGuardGoPIDs lists the live processes running wireguard-go for
// interface ifname: argv[0] named wireguard-go, ifname the last argument.
func usWireGuardGoPIDs(ifname string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if filepath.Base(args[0]) == "wireguard-go" && args[len(args)-1] == ifname && usAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// usIperfResult is the part of iperf3's JSON report (-J) the test reads.
type usIperfResult struct {
	End struct {
		SumReceived struct {
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
	Error string `json:"error"`
}

// usIperf runs an iperf3 server in server's namespace, bound to addr with
// its log in a temporary directory, and a usIperfSeconds client in
// client's, and returns the received rate. The test fails unless it is
// positive. The server is stopped afterwards, and in a cleanup on failure.
func usIperf(t *testing.T, server, client *node, addr string) float64 {
	t.Helper()
	dir := t.TempDir()
	logFile, pidFile := filepath.Join(dir, "iperf3.log"), filepath.Join(dir, "iperf3.pid")
	server.run("iperf3", "-s", "-D", "-B", addr, "-p", usIperfPort, "--logfile", logFile, "-I", pidFile)

	// -D forks: the pid file appears once the daemon runs.
	var pid int
	deadline := time.Now().Add(usProcTimeout)
	for {
		b, _ := os.ReadFile(pidFile)
		if n, err := strconv.Atoi(strings.TrimSpace(strings.TrimRight(string(b), "\x00"))); err == nil && n > 0 {
			pid = n
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("iperf3 server wrote no pid file %s within %v", pidFile, usProcTimeout)
		}
		time.Sleep(poll)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = syscall.Kill(pid, syscall.SIGTERM)
		deadline := time.Now().Add(usProcTimeout)
		for usAlive(pid) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Errorf("iperf3 server %d still running %v after SIGTERM; killed it", pid, usProcTimeout)
				return
			}
			time.Sleep(poll)
		}
	}
	t.Cleanup(stop)
	defer func() {
		if t.Failed() {
			if b, err := os.ReadFile(logFile); err == nil {
				t.Logf("iperf3 server log:\n%s", b)
			}
		}
	}()

	for {
		out := server.run("ss", "-H", "-l", "-t", "-n", "src", addr+":"+usIperfPort)
		if strings.TrimSpace(out) != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("iperf3 server not listening on %s:%s within %v", addr, usIperfPort, usProcTimeout)
		}
		time.Sleep(poll)
	}

	ctx, cancel := context.WithTimeout(context.Background(), scenarioCmdTimeout)
	defer cancel()
	cmd := client.ns.Command(ctx, "iperf3", "-c", addr, "-p", usIperfPort, "-t", usIperfSeconds, "-J")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	var res usIperfResult
	jerr := json.Unmarshal(stdout.Bytes(), &res)
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s: timed out after %v", cmd, scenarioCmdTimeout)
	case err != nil || jerr != nil || res.Error != "":
		t.Fatalf("%s: %v (JSON: %v, error: %q)\nstdout:\n%s\nstderr:\n%s", cmd, err, jerr, res.Error, stdout.Bytes(), stderr.Bytes())
	}
	if res.End.SumReceived.BitsPerSecond <= 0 {
		t.Errorf("iperf3 through the tunnel: end.sum_received.bits_per_second = %v, want > 0\n%s", res.End.SumReceived.BitsPerSecond, stdout.Bytes())
	}
	stop()
	return res.End.SumReceived.BitsPerSecond
}
