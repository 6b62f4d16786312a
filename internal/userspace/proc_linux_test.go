package userspace

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// proc is a process the test watches through a pidfd, so that neither a
// signal nor a wait can reach another process that reused the process ID.
type proc struct {
	pid int
	fd  int
}

// openProc opens a pidfd for pid, closed in t.Cleanup. Call it right after
// the process was started, while it cannot have been reaped yet: a process
// started by Spawn is reaped only when it exits, and Spawn returns only if
// it is ready and thus running.
func openProc(t testing.TB, pid int) *proc {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open(%d): %v", pid, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &proc{pid: pid, fd: fd}
}

// signal sends sig to the process. It reports whether the process existed.
func (p *proc) signal(sig syscall.Signal) bool {
	err := unix.PidfdSendSignal(p.fd, sig, nil, 0)
	return !errors.Is(err, unix.ESRCH)
}

// waitExit reports whether the process exits (it may be a zombie) within
// timeout. A pidfd polls readable once its process has exited.
func (p *proc) waitExit(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms < 0 {
			ms = 0
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLIN}}, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err == nil && n > 0
	}
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	return p.waitExit(0)
}

// stop ends the process: SIGTERM, then SIGKILL. It reports an error if the
// process outlives both.
func (p *proc) stop(t testing.TB, what string) {
	t.Helper()
	if p.exited() {
		return
	}
	p.signal(syscall.SIGTERM)
	if p.waitExit(10 * time.Second) {
		return
	}
	t.Logf("%s (pid %d) still running 10s after SIGTERM; sending SIGKILL", what, p.pid)
	p.signal(syscall.SIGKILL)
	if !p.waitExit(10 * time.Second) {
		t.Errorf("%s (pid %d) still running 10s after SIGKILL", what, p.pid)
	}
}
