package nettest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// socketTimeout bounds how long StartWireGuardGo waits for the UAPI
	// socket. wireguard-go usually creates it within 100 ms.
	socketTimeout = 10 * time.Second
	// termTimeout and exitTimeout bound how long cleanup waits for
	// wireguard-go to exit after SIGTERM and after SIGKILL.
	termTimeout = 5 * time.Second
	exitTimeout = 5 * time.Second

	// maxOutput is how much of wireguard-go's output is kept, from the end.
	maxOutput = 64 << 10
)

// WireGuardGo is a reference userspace WireGuard device, a wireguard-go
// process started by [StartWireGuardGo].
type WireGuardGo struct {
	// Name is the interface name.
	Name string
	// NS is the namespace the interface is in.
	NS *NetNS
	// Socket is the path of the UAPI socket,
	// /var/run/wireguard/<Name>.sock.
	Socket string

	pid  int
	out  *tailBuffer
	done chan struct{} // closed when the process has exited and been reaped

	outputShown bool // a failure message included Output already
}

// StartWireGuardGo starts /usr/bin/wireguard-go (the first wireguard-go in
// PATH) in the foreground inside ns, creating the TUN interface ifname there,
// and returns once its UAPI socket exists. The test fails if the socket does
// not appear within 10 seconds or the process exits first. In t.Cleanup the
// interface is deleted, the process stopped (SIGTERM, then SIGKILL) and the
// socket removed. Name the interface with [UniqueIfName]: the socket
// directory is shared by all namespaces. The test needs root, TUN and
// wireguard-go.
func StartWireGuardGo(t testing.TB, ns *NetNS, ifname string) *WireGuardGo {
	t.Helper()
	RequireRoot(t)
	RequireTUN(t)
	bin := RequireBinary(t, "wireguard-go")
	if ns == nil {
		t.Fatalf("StartWireGuardGo: need a namespace from NewNetNS; tests must not change the host namespace")
	}
	if len(ifname) == 0 || len(ifname) > maxIfNameLen {
		t.Fatalf("StartWireGuardGo: interface name %q must have 1 to %d characters", ifname, maxIfNameLen)
	}
	w := &WireGuardGo{
		Name:   ifname,
		NS:     ns,
		Socket: socketPath(ifname),
		out:    &tailBuffer{max: maxOutput},
		done:   make(chan struct{}),
	}
	if _, err := os.Lstat(w.Socket); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("StartWireGuardGo: %s already exists (err=%v); another device has this name, use UniqueIfName", w.Socket, err)
	}

	// -f keeps wireguard-go in the foreground, as our child; without it,
	// it re-executes itself detached and the parent exits.
	cmd := ns.Command(context.Background(), bin, "-f", ifname)
	cmd.Env = append(os.Environ(), "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1")
	if os.Getenv("LOG_LEVEL") == "" {
		cmd.Env = append(cmd.Env, "LOG_LEVEL=verbose")
	}
	cmd.Stdout = w.out
	cmd.Stderr = w.out
	// If the test binary dies (for example on -timeout), take the device
	// with it; its interface then disappears with its TUN file descriptor.
	// The signal follows the OS thread that started the process, so that
	// thread stays locked to the goroutine waiting for the process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer close(w.done)
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		err := cmd.Wait()
		fmt.Fprintf(w.out, "[nettest: %s: %v]\n", cmd, exitStatus(err))
	}()
	if err := <-started; err != nil {
		t.Fatalf("starting %s: %v", cmd, err)
	}
	w.pid = cmd.Process.Pid
	t.Cleanup(func() { w.stop(t, cmd.Process) })

	timeout := time.NewTimer(socketTimeout)
	defer timeout.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if fi, err := os.Lstat(w.Socket); err == nil && fi.Mode().Type() == fs.ModeSocket {
			return w
		}
		select {
		case <-w.done:
			w.outputShown = true
			t.Fatalf("wireguard-go %s exited before creating %s; output:\n%s", ifname, w.Socket, w.Output())
		case <-timeout.C:
			w.outputShown = true
			t.Fatalf("wireguard-go %s did not create %s within %v; output:\n%s", ifname, w.Socket, socketTimeout, w.Output())
		case <-tick.C:
		}
	}
}

// Output returns what wireguard-go has written to stdout and stderr so far
// (the last 64 KiB), ending with its exit status once it has exited. Unless
// LOG_LEVEL is set in the environment, wireguard-go runs with
// LOG_LEVEL=verbose.
func (w *WireGuardGo) Output() string {
	return w.out.String()
}

// stop deletes the interface, stops the process and removes the socket.
func (w *WireGuardGo) stop(t testing.TB, p *os.Process) {
	// Deleting the interface closes the device, and wireguard-go then
	// exits and removes its socket by itself. Once the process has exited,
	// its TUN interface is gone with its file descriptor, and a link of that
	// name is not ours.
	select {
	case <-w.done:
	default:
		if out, err := runCommand(w.NS.ip, "-n", w.NS.Name, "link", "del", "dev", w.Name); err != nil && !isGone(out) {
			t.Errorf("removing interface %s: %v\n%s", w.Name, err, out)
		}
	}
	// Signal errors mean the process is gone already.
	_ = p.Signal(syscall.SIGTERM)
	if !w.waitExit(termTimeout) {
		t.Logf("wireguard-go %s (pid %d) still running %v after SIGTERM; sending SIGKILL", w.Name, w.pid, termTimeout)
		_ = p.Kill()
		if !w.waitExit(exitTimeout) {
			t.Errorf("wireguard-go %s (pid %d) still running %v after SIGKILL", w.Name, w.pid, exitTimeout)
		}
	}
	if err := os.Remove(w.Socket); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("removing UAPI socket: %v", err)
	}
	if t.Failed() && !w.outputShown {
		t.Logf("wireguard-go %s output:\n%s", w.Name, w.Output())
	}
}

// waitExit reports whether the process exits within timeout.
func (w *WireGuardGo) waitExit(timeout time.Duration) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-w.done:
		return true
	case <-timer.C:
		return false
	}
}

// exitStatus describes the result of exec.Cmd.Wait.
func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// tailBuffer is an io.Writer, safe for concurrent use, that keeps the last
// max bytes written to it.
type tailBuffer struct {
	max int

	mu      sync.Mutex
	buf     []byte
	dropped int
}

// Write appends p, dropping the oldest bytes beyond max.
func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
		b.dropped += over
	}
	return len(p), nil
}

// String returns the kept bytes, noting how many were dropped.
func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return fmt.Sprintf("[nettest: %d earlier bytes dropped]\n%s", b.dropped, b.buf)
	}
	return string(b.buf)
}
