package nettest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

const (
	// netnsDir is where "ip netns add" puts its bind mounts.
	netnsDir = "/var/run/netns"

	// killTimeout bounds how long NetNS cleanup waits for the processes it
	// killed to leave the namespace.
	killTimeout = 5 * time.Second
	// linkUpTimeout bounds how long Veth waits for both ends to run.
	linkUpTimeout = 5 * time.Second
	// pollInterval is how often bounded waits look again.
	pollInterval = 10 * time.Millisecond
)

// RequireTUN requires /dev/net/tun to be openable for reading and writing,
// as creating a TUN device needs.
func RequireTUN(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err == nil {
		f.Close()
	}
	Require(t, err == nil, fmt.Sprintf("TUN devices unavailable: %v", err))
}

// NetNS is a named network namespace created by [NewNetNS] for one test.
type NetNS struct {
	// Name is the namespace's name for "ip netns" and "ip -n".
	Name string

	ip     string         // path of ip(8)
	handle netns.NsHandle // open handle to the namespace, for Do
}

// NewNetNS creates a network namespace named "wgt-PID-N" with "ip netns add",
// so that "ip netns exec" and "ip -n" see it, and brings up its loopback
// interface. In t.Cleanup it kills every process left in the namespace and
// deletes it. The test needs root and ip(8).
func NewNetNS(t testing.TB) *NetNS {
	t.Helper()
	RequireRoot(t)
	n := &NetNS{ip: RequireBinary(t, "ip"), handle: netns.None()}

	name, err := n.add()
	if err != nil {
		t.Fatalf("creating network namespace: %v", err)
	}
	n.Name = name
	t.Cleanup(func() {
		if err := n.destroy(); err != nil {
			t.Errorf("removing network namespace %s: %v", n.Name, err)
		}
	})

	if n.handle, err = netns.GetFromName(name); err != nil {
		t.Fatalf("opening network namespace %s: %v", name, err)
	}
	if out, err := runCommand(n.ip, "-n", name, "link", "set", "dev", "lo", "up"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return n
}

// add creates the namespace under the first free name and returns the name.
func (n *NetNS) add() (string, error) {
	pid := os.Getpid()
	for range 100 {
		name := fmt.Sprintf("wgt-%d-%s", pid, strconv.FormatUint(nameCounter.Add(1)-1, 36))
		// A leftover of a killed test binary whose PID is now ours.
		if _, err := os.Lstat(netnsDir + "/" + name); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		out, err := runCommand(n.ip, "netns", "add", name)
		if err == nil {
			return name, nil
		}
		if !strings.Contains(out, "File exists") {
			return "", fmt.Errorf("%w\n%s", err, out)
		}
	}
	return "", fmt.Errorf("no free name after 100 tries; look for leftovers in %s", netnsDir)
}

// destroy kills the processes in the namespace and deletes it.
func (n *NetNS) destroy() error {
	var errs []error
	if err := n.killAll(); err != nil {
		errs = append(errs, err)
	}
	if n.handle.IsOpen() {
		if err := n.handle.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing handle: %w", err))
		}
	}
	if out, err := runCommand(n.ip, "netns", "del", n.Name); err != nil {
		errs = append(errs, fmt.Errorf("%w\n%s", err, out))
	}
	return errors.Join(errs...)
}

// killAll sends SIGKILL to every process in the namespace until none is
// left or killTimeout passes. "ip netns pids" skips zombies (their
// /proc/PID/ns/net is gone), so unreaped children of the test do not hold
// this up.
func (n *NetNS) killAll() error {
	deadline := time.Now().Add(killTimeout)
	for {
		out, err := runCommand(n.ip, "netns", "pids", n.Name)
		if err != nil {
			return fmt.Errorf("%w\n%s", err, out)
		}
		var pids []int
		for _, f := range strings.Fields(out) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				return fmt.Errorf("parsing output of ip netns pids %s: %q", n.Name, out)
			}
			if pid != os.Getpid() {
				pids = append(pids, pid)
			}
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v still in the namespace %v after SIGKILL", pids, killTimeout)
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("killing process %d: %w", pid, err)
			}
		}
		time.Sleep(pollInterval)
	}
}

// errGoexit is what Do reports when fn does not return, for example because
// it called t.FailNow, which must only be called from the test's goroutine.
var errGoexit = errors.New("function exited its goroutine without returning (t.Fatal, t.FailNow and t.Skip must not be called inside Do)")

// Do runs fn in the namespace and returns its error.
//
// fn runs on a new goroutine locked to an OS thread that is switched into the
// namespace, so it must not call t.Fatal, t.FailNow or t.Skip, and goroutines
// it starts run in the host namespace. Sockets fn opens stay in the
// namespace. A panic in fn is re-raised in the caller. If the thread cannot
// be switched back, it stays locked, so the runtime discards it instead of
// reusing it.
func (n *NetNS) Do(fn func() error) error {
	ch := make(chan doResult, 1)
	go func() {
		r := doResult{err: errGoexit}
		defer func() { ch <- r }()

		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			r.err = fmt.Errorf("getting current network namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(n.handle); err != nil {
			runtime.UnlockOSThread()
			r.err = fmt.Errorf("entering network namespace %s: %w", n.Name, err)
			return
		}

		r = callRecover(fn)

		if err := netns.Set(orig); err != nil {
			// Returning with the thread still locked makes the runtime
			// terminate it rather than run other goroutines in n.
			r.err = errors.Join(r.err, fmt.Errorf("leaving network namespace %s: %w", n.Name, err))
			return
		}
		runtime.UnlockOSThread()
	}()
	r := <-ch
	if r.panicked {
		panic(r.panicValue)
	}
	return r.err
}

// doResult is the outcome of the function passed to Do.
type doResult struct {
	err        error
	panicked   bool
	panicValue any
}

// callRecover calls fn and turns a panic into a result. If fn calls
// runtime.Goexit, callRecover does not return.
func callRecover(fn func() error) (r doResult) {
	defer func() {
		if r.panicked {
			r.panicValue = recover()
		}
	}()
	r.panicked = true
	r.err = fn()
	r.panicked = false
	return r
}

// Command returns a command that runs name with args inside the namespace
// through "ip netns exec". Because ip replaces itself with the program, the
// process started is the program itself, and cancelling ctx kills it.
func (n *NetNS) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, n.ip, append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// RunProgram runs the program name found in dir (alone: not PATH) inside
// the namespace, invoked as plain name (argv[0] is what wg and wg-quick
// print in their usage and error texts), with the given standard input
// and the test's environment. It returns the output and the exit code; a
// non-zero exit is not a failure. The test fails if the program cannot be
// started, is killed by a signal, or outlives timeout.
func (n *NetNS) RunProgram(t testing.TB, timeout time.Duration, dir, name, stdin string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return runAs(t, timeout, func(ctx context.Context) *exec.Cmd {
		// env(1) looks name up in a PATH of dir alone and runs it as name.
		return n.Command(ctx, "/usr/bin/env", append([]string{"PATH=" + dir, name}, args...)...)
	}, stdin)
}

// Run runs name with args inside the namespace and returns its combined
// output. The test fails, showing the output, if the command fails or runs
// longer than 30 seconds.
func (n *NetNS) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := n.Command(ctx, name, args...)
	cmd.WaitDelay = waitDelay
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s: timed out after %v\n%s", cmd, commandTimeout, out)
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	return string(out)
}

// Veth creates a veth pair with end aName in namespace a and end bName in
// namespace b, assigns each end its address (a CIDR prefix such as
// "10.99.0.1/24"; IPv6 addresses skip duplicate address detection so they are
// usable at once), brings both ends up and waits until both run. The pair is
// deleted in t.Cleanup; deleting either namespace would delete it too.
func Veth(t testing.TB, a *NetNS, aName string, aAddr string, b *NetNS, bName string, bAddr string) {
	t.Helper()
	if a == nil || b == nil {
		t.Fatalf("Veth: both ends need a namespace from NewNetNS; tests must not change the host namespace")
	}
	ends := []struct {
		ns   *NetNS
		name string
		addr netip.Prefix
	}{{ns: a, name: aName}, {ns: b, name: bName}}
	for i, s := range []string{aAddr, bAddr} {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			t.Fatalf("Veth: %v", err)
		}
		ends[i].addr = p
	}

	if out, err := runCommand(a.ip, "-n", a.Name, "link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b.Name); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Cleanup(func() {
		// Deleting one end deletes the pair. It is already gone if its
		// namespace was deleted first.
		out, err := runCommand(a.ip, "-n", a.Name, "link", "del", "dev", aName)
		if err != nil && !isGone(out) {
			t.Errorf("removing veth pair %s/%s: %v\n%s", aName, bName, err, out)
		}
	})

	for _, e := range ends {
		args := []string{"-n", e.ns.Name, "addr", "add", e.addr.String(), "dev", e.name}
		if e.addr.Addr().Is6() {
			args = append(args, "nodad")
		}
		if out, err := runCommand(e.ns.ip, args...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if out, err := runCommand(e.ns.ip, "-n", e.ns.Name, "link", "set", "dev", e.name, "up"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}

	// The kernel turns the carrier on, and starts the qdisc, asynchronously
	// (linkwatch); packets sent before that are dropped.
	for _, e := range ends {
		if err := e.ns.waitRunning(e.name, linkUpTimeout); err != nil {
			out, _ := runCommand(e.ns.ip, "-n", e.ns.Name, "link", "show", "dev", e.name)
			t.Fatalf("Veth: %v\n%s", err, out)
		}
	}
}

// waitRunning waits until the interface ifname in n is operationally up.
func (n *NetNS) waitRunning(ifname string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var running bool
		err := n.Do(func() error {
			ifi, err := net.InterfaceByName(ifname)
			if err != nil {
				return err
			}
			running = ifi.Flags&net.FlagRunning != 0
			return nil
		})
		if err != nil {
			return err
		}
		if running {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s in %s not running after %v", ifname, n.Name, timeout)
		}
		time.Sleep(pollInterval)
	}
}

// runCommand runs a helper command with the default timeout and returns its
// combined output. The error names the command.
func runCommand(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = waitDelay
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("%s: timed out after %v", cmd, commandTimeout)
	}
	if err != nil {
		return string(out), fmt.Errorf("%s: %w", cmd, err)
	}
	return string(out), nil
}

// isGone reports whether ip(8) output says that the link, or its namespace,
// no longer exists.
func isGone(ipOutput string) bool {
	return strings.Contains(ipOutput, "Cannot find device") ||
		strings.Contains(ipOutput, "Cannot open network namespace")
}
