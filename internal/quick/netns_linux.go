package quick

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// NamespaceStateDir is the directory for the journals and locks of the
// calling process's network namespace. Interface names are per namespace,
// /run is usually not: two namespaces each with a wg0 must not share wg0's
// journal (an up in one would take the other's journal for a stale one and
// undo it) or wait on each other's lock. The namespace of PID 1 (the
// host's, or a container's own) uses StateDir itself; any other (or every
// one, when PID 1's namespace cannot be read) uses
// StateDir/netns-ID, where ID is the namespace's cookie (unique for the
// boot, never reused; Linux 5.14 and later) or else its inode number.
func NamespaceStateDir() string {
	// thread-self: the namespace of this thread, which is the process's
	// in wg-quick and the one a test entered with setns.
	self, err := os.Stat("/proc/thread-self/ns/net")
	if err != nil {
		return StateDir
	}
	// PID 1's namespace may be unreadable (a sandbox, a restricted
	// /proc); then every namespace, this one included, gets its own.
	if init, err := os.Stat("/proc/1/ns/net"); err == nil && os.SameFile(self, init) {
		return StateDir
	}
	if c, ok := netnsCookie(); ok {
		return filepath.Join(StateDir, fmt.Sprintf("netns-%d", c))
	}
	var ino uint64
	if st, ok := self.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	return filepath.Join(StateDir, fmt.Sprintf("netns-ino-%d", ino))
}

// netnsCookie returns the network namespace's cookie, read through a
// socket opened in it.
func netnsCookie() (uint64, bool) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer unix.Close(fd)
	c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	return c, err == nil
}
