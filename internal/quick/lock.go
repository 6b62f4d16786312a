package quick

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// lockExisting takes iface's lock and checks that iface is a WireGuard
// interface: the start of every verb that works on a running interface
// (save, reload, reresolve).
func (e *Env) lockExisting(ctx context.Context, iface string) (unlock func(), err error) {
	unlock, err = e.lock(ctx, iface)
	if err != nil {
		return nil, err
	}
	if err := e.requireWireGuard(iface); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// requireWireGuard fails, with wg-quick's message, unless iface is a
// WireGuard interface.
func (e *Env) requireWireGuard(iface string) error {
	names, err := e.Device.Names()
	if err != nil {
		return err
	}
	if !slices.Contains(names, iface) {
		return notWireGuard(iface)
	}
	return nil
}

// notWireGuard is wg-quick's error for a name that is no WireGuard
// interface.
func notWireGuard(iface string) error {
	return fmt.Errorf("`%s' is not a WireGuard interface", iface)
}

// lock takes iface's lock (see lock) and then removes the temporary files
// a killed earlier run left beside the interface's journal and its
// configuration file (a configuration's may hold its private key): every
// writer of those holds this lock, so none of them is live.
func (e *Env) lock(ctx context.Context, iface string) (unlock func(), err error) {
	unlock, err = lock(ctx, e.StateDir, iface)
	if err != nil {
		return nil, err
	}
	jp := journalPath(e.StateDir, iface)
	_ = removeStaleTemps(jp, e.FileStep)
	_ = removeStaleTemps(seenPath(jp), e.FileStep)
	_ = sweepLogs(jp, logGen(jp), e.FileStep)
	if e.ConfigFile != "" {
		_ = removeStaleTemps(e.ConfigFile, e.FileStep)
	}
	return unlock, nil
}

// lockPoll is how often a wait for the interface's lock tries again.
const lockPoll = 20 * time.Millisecond

// lock takes the interface's lock file, waiting for another wg-quick
// working on the same interface to finish, or until ctx ends (SIGINT or
// SIGTERM: `systemctl stop` of a unit whose `down` waits): then it returns
// an error and nothing has changed. The wait polls a non-blocking flock(2),
// since a blocking one cannot be interrupted.
//
// The lock file is removed again on unlock (and a namespace's directory
// with its last file), so that namespaces that come and go leave nothing
// behind. That is safe because a locker checks, once it holds the lock,
// that the file it locked is still the one at the path: one that waited on
// a file its holder then removed starts over on the new file.
func lock(ctx context.Context, dir, iface string) (unlock func(), err error) {
	path := filepath.Join(dir, iface+".lock")
	// Each retry means another locker got through, so this ends; the
	// bound only turns a bug into an error instead of a spin.
	for range 100000 {
		if err := os.MkdirAll(dir, 0o700); errors.Is(err, fs.ErrExist) {
			continue // made and removed again by others meanwhile
		} else if err != nil {
			return nil, fmt.Errorf("creating %s: %w", dir, err)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
		if errors.Is(err, fs.ErrNotExist) {
			continue // the directory went with another's unlock
		} else if err != nil {
			return nil, fmt.Errorf("opening lock: %w", err)
		}
		nested, err := flockWait(ctx, f)
		if err != nil {
			f.Close()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("Stopped waiting for another wg-quick working on `%s' (%s): %w; nothing was changed", iface, path, context.Cause(ctx))
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if nested {
			// Run by a hook of the wg-quick holding the lock, which
			// waits for it: work under its lock, and leave the file.
			return func() { f.Close() }, nil
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 != nil || err2 != nil || !os.SameFile(held, now) {
			f.Close()
			continue
		}
		return func() {
			os.Remove(path)
			if strings.HasPrefix(filepath.Base(dir), "netns-") {
				os.Remove(dir) // fails while other files are in it
			}
			f.Close()
		}, nil
	}
	return nil, fmt.Errorf("locking %s: the lock file keeps being replaced", path)
}

// flockWait takes an exclusive flock(2) on f, trying every lockPoll until
// it gets it or ctx ends. It does not wait when the holder is an ancestor
// of this process (nested): then this is a wg-quick run by a hook of the
// wg-quick holding the lock (`PostUp = wg-quick save %i`), which waits for
// the hook and so for this process: waiting for it would never end, where
// the reference, which has no lock, just works. Any other holder is
// waited for, so independent invocations stay serialised; a hook's
// wg-quick left running in the background finds its ancestor gone and
// waits like any other.
func flockWait(ctx context.Context, f *os.File) (nested bool, err error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return false, err
		}
		if heldByAncestor(f) {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, context.Cause(ctx)
		case <-time.After(lockPoll):
		}
	}
}

// heldByAncestor reports whether the flock on f's file is held by a
// parent, grandparent... of this process (not by this process itself), as
// /proc/locks names the holder of each lock by process ID, file system and
// inode.
func heldByAncestor(f *os.File) bool {
	st, err := f.Stat()
	if err != nil {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		return false
	}
	// "1: FLOCK  ADVISORY  WRITE 24722 fe:00:10002674 0 EOF"; waiters'
	// lines have "->" after the number.
	id := fmt.Sprintf("%02x:%02x:%d", unix.Major(uint64(sys.Dev)), unix.Minor(uint64(sys.Dev)), sys.Ino)
	holders := map[int]bool{}
	for line := range strings.Lines(string(locks)) {
		fields := strings.Fields(line)
		if len(fields) < 6 || fields[1] != "FLOCK" || fields[5] != id {
			continue
		}
		if pid, err := strconv.Atoi(fields[4]); err == nil {
			holders[pid] = true
		}
	}
	if len(holders) == 0 {
		return false
	}
	// Up the parent chain, bounded (a chain has no loops, but /proc may
	// change under the walk).
	for pid, n := os.Getppid(), 0; pid > 1 && n < 64; n++ {
		if holders[pid] {
			return true
		}
		if pid = parentOf(pid); pid <= 0 {
			return false
		}
	}
	return false
}

// parentOf is a process's parent ID from /proc/PID/stat, or -1.
func parentOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return -1
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return -1
	}
	return ppid
}
