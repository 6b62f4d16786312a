package userspace

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// keptCaps are the capabilities the device uses: CAP_NET_ADMIN for the TUN
// device, rtnetlink, socket marks and forced socket buffers; CAP_SYS_ADMIN
// for setns(2) into the namespace its link was moved to (see
// tunevents_linux.go; no narrower capability allows it);
// CAP_NET_BIND_SERVICE for a ListenPort below 1024 set later with wg set.
// The daemon runs as root with these alone: it needs no other file access
// than root's own (its socket directory), and runs nothing.
var keptCaps = []uint{unix.CAP_NET_ADMIN, unix.CAP_SYS_ADMIN, unix.CAP_NET_BIND_SERVICE}

// errCapsPerThread: a binary built with cgo cannot change every thread's
// capabilities (syscall.AllThreadsSyscall refuses), and capabilities are
// per thread.
var errCapsPerThread = errors.New("capabilities kept: this binary was built with cgo, which cannot change them on every thread")

// Harden makes the device process hold less: not dumpable (no core file or
// ptrace by other users' processes; its memory holds the private key), no
// new privileges on exec, and only keptCaps, effective, permitted and in
// the bounding set. It runs at the daemon's start. The dumpable flag is set
// in any case; an error says what else could not be done, and the daemon
// goes on (it is no less safe than before).
func Harden() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE): %w", err)
	}
	if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); err != nil {
		return err
	}
	keep := map[uint]bool{}
	for _, c := range keptCaps {
		keep[c] = true
	}
	for c := uint(0); c <= unix.CAP_LAST_CAP; c++ {
		if keep[c] {
			continue
		}
		// EINVAL: the running kernel does not know c.
		if err := allThreads(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("dropping capability %d from the bounding set: %w", c, err)
		}
	}
	// Keep those of keptCaps the process has (a unit's
	// CapabilityBoundingSet may have taken some already): capset refuses
	// to add any.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var have [2]unix.CapUserData
	if err := unix.Capget(&hdr, &have[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	var data [2]unix.CapUserData
	for _, c := range keptCaps {
		if bit := uint32(1) << (c % 32); have[c/32].Permitted&bit != 0 {
			data[c/32].Effective |= bit
			data[c/32].Permitted |= bit
		}
	}
	err := allThreads(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	runtime.KeepAlive(&hdr) // (Go's heap does not move objects)
	runtime.KeepAlive(&data)
	if err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

// allThreads makes a system call on every thread of the process.
func allThreads(trap, a1, a2, a3 uintptr) error {
	_, _, errno := syscall.AllThreadsSyscall(trap, a1, a2, a3)
	switch {
	case errno == syscall.ENOTSUP:
		return errCapsPerThread
	case errno != 0:
		return errno
	}
	return nil
}
