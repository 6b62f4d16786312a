package userspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wgtools/wgtools/internal/nettest"
	"golang.org/x/sys/unix"
)

// goneTimeout bounds how long the tests wait for a daemon to exit once it
// was told to.
const goneTimeout = 15 * time.Second

// requireDaemonPrereqs checks what running the daemon in a namespace
// needs.
func requireDaemonPrereqs(t *testing.T) {
	t.Helper()
	nettest.RequireRoot(t)
	nettest.RequireTUN(t)
	nettest.RequireBinary(t, "ip")
	nettest.Reference(t, "wg")
}

// spawnDaemon spawns this test binary as the daemon of interface name in
// ns, detached, as wg-quick does. If it succeeds, t.Cleanup stops the
// daemon and removes its socket.
func spawnDaemon(t *testing.T, ns *nettest.NetNS, name string) (*proc, error) {
	t.Helper()
	exe, args, env, err := daemonCommand(ns.Name, name)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := Spawn(exe, args, name, env, spawnTimeout)
	if err != nil {
		return nil, err
	}
	p := openProc(t, pid)
	t.Cleanup(func() {
		p.stop(t, "daemon "+name)
		// A killed daemon leaves its socket behind.
		if err := os.Remove(socketPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("removing socket: %v", err)
		}
	})
	return p, nil
}

// mustSpawnDaemon is spawnDaemon, failing the test on error.
func mustSpawnDaemon(t *testing.T, ns *nettest.NetNS, name string) *proc {
	t.Helper()
	p, err := spawnDaemon(t, ns, name)
	if err != nil {
		t.Fatalf("Spawn %s in %s: %v", name, ns.Name, err)
	}
	return p
}

// linkExists reports whether interface name exists in ns.
func linkExists(t *testing.T, ns *nettest.NetNS, name string) bool {
	t.Helper()
	out, err := exec.Command("ip", "-n", ns.Name, "link", "show", "dev", name).CombinedOutput()
	if err == nil {
		return true
	}
	if strings.Contains(string(out), "does not exist") {
		return false
	}
	t.Fatalf("ip -n %s link show dev %s: %v\n%s", ns.Name, name, err, out)
	return false
}

// socketExists reports whether the UAPI socket of name exists.
func socketExists(t *testing.T, name string) bool {
	t.Helper()
	_, err := os.Lstat(socketPath(name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// wgShow runs the reference "wg show name args..." and fails the test
// unless it succeeds.
func wgShow(t *testing.T, name string, args ...string) string {
	t.Helper()
	stdout, stderr, code := nettest.RunWG(t, "", append([]string{"show", name}, args...)...)
	if code != 0 {
		t.Fatalf("wg show %s %s: exit %d: %s", name, strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// keyPair returns a private key file, written to a temporary directory,
// and the public key, made by the reference wg.
func keyPair(t *testing.T) (privFile, pub string) {
	t.Helper()
	priv, stderr, code := nettest.RunWG(t, "", "genkey")
	if code != 0 {
		t.Fatalf("wg genkey: exit %d: %s", code, stderr)
	}
	pub, stderr, code = nettest.RunWG(t, priv, "pubkey")
	if code != 0 {
		t.Fatalf("wg pubkey: exit %d: %s", code, stderr)
	}
	privFile = filepath.Join(t.TempDir(), "private.key")
	if err := os.WriteFile(privFile, []byte(priv), 0o600); err != nil {
		t.Fatal(err)
	}
	return privFile, strings.TrimSpace(pub)
}

// TestTunnel joins two namespaces by a veth pair, runs a detached device
// in each, configures them with the reference wg and ip, and pings through
// the tunnel.
func TestTunnel(t *testing.T) {
	t.Parallel()
	requireDaemonPrereqs(t)
	nettest.RequireBinary(t, "ping")
	a, b := nettest.NewNetNS(t), nettest.NewNetNS(t)
	nettest.Veth(t, a, "veth0", "10.201.0.1/24", b, "veth0", "10.201.0.2/24")
	ifA, ifB := nettest.UniqueIfName(t, "wgt"), nettest.UniqueIfName(t, "wgt")
	mustSpawnDaemon(t, a, ifA)
	mustSpawnDaemon(t, b, ifB)

	keyA, pubA := keyPair(t)
	keyB, pubB := keyPair(t)
	for _, c := range []struct {
		ns                *nettest.NetNS
		name, key, peer   string
		endpoint, peerIP  string
		address, peerAddr string
	}{
		{ns: a, name: ifA, key: keyA, peer: pubB, endpoint: "10.201.0.2:51820", address: "10.202.0.1/24", peerIP: "10.202.0.2/32"},
		{ns: b, name: ifB, key: keyB, peer: pubA, endpoint: "10.201.0.1:51820", address: "10.202.0.2/24", peerIP: "10.202.0.1/32"},
	} {
		if _, stderr, code := nettest.RunWG(t, "", "set", c.name,
			"listen-port", "51820", "private-key", c.key,
			"peer", c.peer, "endpoint", c.endpoint, "allowed-ips", c.peerIP); code != 0 {
			t.Fatalf("wg set %s: exit %d: %s", c.name, code, stderr)
		}
		c.ns.Run(t, "ip", "address", "add", c.address, "dev", c.name)
		c.ns.Run(t, "ip", "link", "set", "dev", c.name, "up")
	}

	a.Run(t, "ping", "-c", "3", "-W", "5", "10.202.0.2")
	b.Run(t, "ping", "-c", "1", "-W", "5", "10.202.0.1")

	for _, c := range []struct{ name, peer string }{{ifA, pubB}, {ifB, pubA}} {
		out := wgShow(t, c.name)
		for _, want := range []string{"interface: " + c.name, "listening port: 51820", "peer: " + c.peer, "latest handshake:", "transfer:"} {
			if !strings.Contains(out, want) {
				t.Errorf("wg show %s lacks %q:\n%s", c.name, want, out)
			}
		}
		hs := strings.Fields(wgShow(t, c.name, "latest-handshakes"))
		if len(hs) != 2 || hs[0] != c.peer || hs[1] == "0" {
			t.Errorf("wg show %s latest-handshakes = %q, want a handshake with %s", c.name, hs, c.peer)
		}
	}
}

// TestDetachedUntilLinkDeleted spawns the daemon from a process that then
// exits, as wg-quick up does, and checks that the device lives on until
// its interface is deleted.
func TestDetachedUntilLinkDeleted(t *testing.T) {
	t.Parallel()
	requireDaemonPrereqs(t)
	ns := nettest.NewNetNS(t)
	name := nettest.UniqueIfName(t, "wgt")

	// Orphans are re-parented to the closest subreaper; making this
	// process one lets it reap the daemon below when it exits, whatever
	// init does.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), spawnTimeout+10*time.Second)
	defer cancel()
	spawner := exec.CommandContext(ctx, selfExe(t), "-test.run=^$")
	spawner.Env = helperEnviron("spawner", spawnArgsEnv+"="+ns.Name+" "+name)
	var stdout, stderr bytes.Buffer
	spawner.Stdout, spawner.Stderr = &stdout, &stderr
	spawner.WaitDelay = 5 * time.Second
	err := spawner.Run()
	// The daemon, if started, is in ns, whose cleanup kills it; the socket
	// is removed here in case it was killed.
	t.Cleanup(func() {
		if err := os.Remove(socketPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("removing socket: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("spawner: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(stdout.String()))
	if err != nil {
		t.Fatalf("spawner printed %q, want a process ID", &stdout)
	}
	p := openProc(t, pid)
	reaped := false
	t.Cleanup(func() {
		if !reaped {
			p.stop(t, "daemon "+name)
			unix.Wait4(pid, nil, unix.WNOHANG, nil)
		}
	})

	// The spawner has exited; the daemon runs on, in its own session, and
	// serves the reference wg.
	if p.exited() {
		t.Fatalf("daemon (pid %d) exited with its spawner", pid)
	}
	if sid, err := unix.Getsid(pid); err != nil || sid != pid {
		t.Errorf("getsid(%d) = %d, %v; want its own session", pid, sid, err)
	}
	// It dropped what it does not need (see Harden).
	if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err != nil {
		t.Error(err)
	} else if !cgoBuild() {
		requireHardened(t, fmt.Sprintf("daemon (pid %d)", pid), string(status))
	} else if nettest.InCI() {
		t.Error("built with cgo, the daemon cannot drop its capabilities, and CI must check that it does: build with CGO_ENABLED=0 (make test does)")
	}
	if ppid := parentPID(t, pid); ppid == spawner.Process.Pid {
		t.Errorf("daemon's parent is still the spawner %d", ppid)
	}
	if out := wgShow(t, name); !strings.Contains(out, "interface: "+name) {
		t.Errorf("wg show %s:\n%s", name, out)
	}
	if !linkExists(t, ns, name) {
		t.Fatalf("interface %s not in %s", name, ns.Name)
	}

	// Deleting the interface stops the daemon, which removes its socket.
	ns.Run(t, "ip", "link", "del", "dev", name)
	if !p.waitExit(goneTimeout) {
		t.Fatalf("daemon (pid %d) still running %v after its interface was deleted", pid, goneTimeout)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		t.Logf("reaping daemon (pid %d): %v (not adopted by this process?)", pid, err)
	} else if !ws.Exited() || ws.ExitStatus() != 0 {
		t.Errorf("daemon exit status %v, want 0", ws)
	}
	reaped = true
	if socketExists(t, name) {
		t.Errorf("socket %s left behind", socketPath(name))
	}
}

// parentPID returns the parent process ID of pid.
func parentPID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// pid (comm) state ppid ...; comm may contain spaces and parentheses.
	rest := string(b[bytes.LastIndexByte(b, ')')+1:])
	f := strings.Fields(rest)
	if len(f) < 2 {
		t.Fatalf("parsing /proc/%d/stat: %q", pid, b)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("parsing /proc/%d/stat: %q", pid, b)
	}
	return ppid
}

// TestSIGTERM checks that SIGTERM stops a detached daemon cleanly.
func TestSIGTERM(t *testing.T) {
	t.Parallel()
	requireDaemonPrereqs(t)
	ns := nettest.NewNetNS(t)
	name := nettest.UniqueIfName(t, "wgt")
	p := mustSpawnDaemon(t, ns, name)
	wgShow(t, name)

	p.signal(syscall.SIGTERM)
	if !p.waitExit(goneTimeout) {
		t.Fatalf("daemon (pid %d) still running %v after SIGTERM", p.pid, goneTimeout)
	}
	if socketExists(t, name) {
		t.Errorf("socket %s left behind", socketPath(name))
	}
	if linkExists(t, ns, name) {
		t.Errorf("interface %s left behind in %s", name, ns.Name)
	}
}

// TestSIGKILLStaleSocket checks that a daemon killed with SIGKILL leaves a
// stale socket, and that the next daemon of that name replaces it.
func TestSIGKILLStaleSocket(t *testing.T) {
	t.Parallel()
	requireDaemonPrereqs(t)
	ns := nettest.NewNetNS(t)
	name := nettest.UniqueIfName(t, "wgt")
	p := mustSpawnDaemon(t, ns, name)

	p.signal(syscall.SIGKILL)
	if !p.waitExit(goneTimeout) {
		t.Fatalf("daemon (pid %d) still running %v after SIGKILL", p.pid, goneTimeout)
	}
	if !socketExists(t, name) {
		// Anything that lists interfaces meanwhile (wg show, our wg, other
		// tests' packages running in parallel) removes a stale socket, as
		// wg does. Leave one again so the replacement path below is still
		// what is tested.
		l, err := net.Listen("unix", socketPath(name))
		if err != nil {
			t.Fatalf("recreating a stale socket: %v", err)
		}
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		l.Close()
		t.Logf("the stale socket was already removed by another lister; made a new stale one")
	}
	// The interface went with the TUN descriptor.
	if linkExists(t, ns, name) {
		t.Errorf("interface %s still in %s after its daemon was killed", name, ns.Name)
	}
	if _, stderr, code := nettest.RunWG(t, "", "show", name); code == 0 {
		t.Errorf("wg show %s succeeded on a stale socket", name)
	} else {
		t.Logf("wg show on the stale socket: exit %d: %s", code, stderr)
	}

	mustSpawnDaemon(t, ns, name)
	if out := wgShow(t, name); !strings.Contains(out, "interface: "+name) {
		t.Errorf("wg show %s:\n%s", name, out)
	}
	if !linkExists(t, ns, name) {
		t.Errorf("interface %s missing", name)
	}
}

// TestConcurrentSpawn starts two daemons of the same name at once: exactly
// one may win.
func TestConcurrentSpawn(t *testing.T) {
	t.Parallel()
	requireDaemonPrereqs(t)
	tests := []struct {
		name          string
		sameNamespace bool
	}{
		{name: "same namespace", sameNamespace: true},
		{name: "different namespaces", sameNamespace: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			nss := []*nettest.NetNS{nettest.NewNetNS(t)}
			if tt.sameNamespace {
				nss = append(nss, nss[0])
			} else {
				nss = append(nss, nettest.NewNetNS(t))
			}
			name := nettest.UniqueIfName(t, "wgt")

			// Spawn calls t.Cleanup (through openProc) only from this
			// goroutine: the goroutines just start the processes.
			type result struct {
				pid int
				err error
			}
			results := make([]result, len(nss))
			var wg sync.WaitGroup
			for i, ns := range nss {
				exe, args, env, err := daemonCommand(ns.Name, name)
				if err != nil {
					t.Fatal(err)
				}
				wg.Go(func() {
					pid, err := Spawn(exe, args, name, env, spawnTimeout)
					results[i] = result{pid, err}
				})
			}
			wg.Wait()

			var winners int
			for i, r := range results {
				if r.err != nil {
					t.Logf("daemon %d: %v", i, r.err)
					if !errors.Is(r.err, fs.ErrExist) || !strings.Contains(r.err.Error(), "interface "+name+" already exists") {
						t.Errorf("daemon %d failed with %q, want an error saying the interface exists (wrapping fs.ErrExist)", i, r.err)
					}
					continue
				}
				winners++
				p := openProc(t, r.pid)
				t.Cleanup(func() {
					p.stop(t, "daemon "+name)
					if err := os.Remove(socketPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("removing socket: %v", err)
					}
				})
			}
			if winners != 1 {
				t.Fatalf("%d daemons started, want exactly 1", winners)
			}
			wgShow(t, name)
		})
	}
}
