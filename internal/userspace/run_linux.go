package userspace

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/ipc"
	"golang.zx2c4.com/wireguard/tun"
)

const (
	// lockTimeout bounds how long Run waits for another process to finish
	// creating its device; that takes milliseconds.
	lockTimeout = 10 * time.Second
	// lockPollInterval is how often Run tries the lock again.
	lockPollInterval = 10 * time.Millisecond
	// probeTimeout bounds the connection attempt that tells a live UAPI
	// socket from a stale one.
	probeTimeout = 2 * time.Second
)

// Run creates the TUN interface name in the calling process's network
// namespace, attaches a userspace WireGuard device to it and serves the UAPI
// socket /var/run/wireguard/<name>.sock. It calls ready (unless nil) once the
// socket accepts connections, and then serves until ctx is cancelled, the
// device closes itself because its interface was deleted, or the socket file
// is removed. It then closes the device, which deletes the interface, removes
// the socket and returns nil; it returns an error if the device cannot be
// set up or serving fails.
//
// A stale socket left by a killed daemon is removed first; if the socket is
// live, or a TUN interface of that name is in use, Run returns an error
// wrapping [fs.ErrExist]. The device starts with no configuration: configure
// it through the socket (wg(8) or wgctrl) and bring the interface up with
// ip(8) or rtnetlink.
func Run(ctx context.Context, name string, opts Options, ready func()) error {
	if err := checkName(name); err != nil {
		return err
	}
	mtu := opts.MTU
	if mtu == 0 {
		mtu = DefaultMTU
	}
	if mtu < 0 {
		return fmt.Errorf("invalid MTU %d", mtu)
	}
	if ready == nil {
		ready = func() {}
	}
	verbosef, errorf := levelLogf(opts, name)
	path := socketPath(name)

	if err := ctx.Err(); err != nil {
		return fmt.Errorf("starting userspace device %s: %w", name, context.Cause(ctx))
	}

	tdev, uapiFile, ours, err := create(ctx, name, mtu, verbosef)
	if err != nil {
		return err
	}

	verbosef("Starting userspace WireGuard device (wireguard-go library)")
	if bs := tdev.BatchSize(); bs > 1 {
		// tun.CreateTUN got IFF_VNET_HDR and TUNSETOFFLOAD (checksum,
		// TSO4/6 and, since Linux 6.2, USO4/6): the device reads
		// segmentation-offloaded super-packets and writes GRO-coalesced
		// ones, batch packets at a time.
		verbosef("TUN offloads (GSO/GRO) enabled, batch size %d, MTU %d", bs, mtu)
	} else {
		verbosef("TUN offloads (GSO/GRO) unavailable, MTU %d", mtu)
	}

	dev := device.NewDevice(tdev, conn.NewDefaultBind(), &device.Logger{Verbosef: verbosef, Errorf: errorf})
	uapi, err := ipc.UAPIListen(name, uapiFile)
	// UAPIListen works on a duplicate of the descriptor.
	uapiFile.Close()
	if err != nil {
		dev.Close()
		return errors.Join(fmt.Errorf("listening on UAPI socket %s: %w", path, err), removeSocket(path, ours))
	}

	conns := &connSet{conns: make(map[net.Conn]struct{}), afterFirst: opts.AfterFirstRequest}
	acceptErr := make(chan error, 1)
	go conns.acceptLoop(uapi, dev, acceptErr)
	verbosef("UAPI listener started")
	ready()

	var stopErr error
	select {
	case <-ctx.Done():
		verbosef("Stopping: %v", context.Cause(ctx))
	case <-dev.Wait():
		// RoutineReadFromTUN closes the device when reading fails, which
		// is what happens when the interface is deleted.
		verbosef("Stopping: device closed (interface deleted?)")
	case err := <-acceptErr:
		if _, serr := os.Lstat(path); errors.Is(serr, fs.ErrNotExist) {
			// wireguard-go exits too when its socket is removed.
			verbosef("Stopping: UAPI socket %s removed", path)
		} else {
			stopErr = fmt.Errorf("accepting UAPI connections on %s: %w", path, err)
			errorf("Stopping: %v", stopErr)
		}
	}

	// Closing the listener also unlinks the socket (the library sets
	// SetUnlinkOnClose). Closing the open connections makes their
	// IpcHandle goroutines return; a client idling on its connection would
	// otherwise keep them running.
	if err := uapi.Close(); err != nil {
		verbosef("Closing UAPI listener: %v", err)
	}
	conns.closeAll()
	dev.Close()
	if err := removeSocket(path, ours); err != nil {
		stopErr = errors.Join(stopErr, err)
	}
	verbosef("Shut down")
	return stopErr
}

// create does the check-and-create step of Run under the socket directory
// lock: it removes a stale socket, creates the TUN interface and binds the
// UAPI socket. It returns the socket's file information too: the listener
// unlinks the socket by path when it closes, and Run's final check then
// leaves alone a socket that is not this one.
func create(ctx context.Context, name string, mtu int, logf func(string, ...any)) (tdev tun.Device, uapiFile *os.File, socket fs.FileInfo, err error) {
	unlock, err := lockSocketDir(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	defer unlock()

	if err := removeStaleSocket(name, logf); err != nil {
		return nil, nil, nil, err
	}
	if tdev, err = tun.CreateTUN(name, mtu); err != nil {
		return nil, nil, nil, tunError(name, err)
	}
	tdev = watchLink(tdev, logf)
	path := socketPath(name)
	if uapiFile, err = ipc.UAPIOpen(name); err != nil {
		tdev.Close()
		return nil, nil, nil, fmt.Errorf("creating UAPI socket %s: %w", path, err)
	}
	if socket, err = os.Lstat(path); err != nil {
		uapiFile.Close()
		tdev.Close()
		return nil, nil, nil, errors.Join(fmt.Errorf("checking UAPI socket: %w", err), os.Remove(path))
	}
	return tdev, uapiFile, socket, nil
}

// lockSocketDir creates the socket directory if needed and takes an
// exclusive flock(2) on it, waiting at most lockTimeout. unlock releases it.
//
// Locking the directory, rather than a lock file, leaves nothing behind. The
// reference wireguard-go does not take this lock; it only guards against
// other processes using this package.
func lockSocketDir(ctx context.Context) (unlock func(), err error) {
	if err := os.MkdirAll(SocketDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", SocketDir, err)
	}
	dir, err := os.Open(SocketDir)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", SocketDir, err)
	}
	sc, err := dir.SyscallConn()
	if err != nil {
		dir.Close()
		return nil, fmt.Errorf("locking %s: %w", SocketDir, err)
	}
	timer := time.NewTimer(lockTimeout)
	defer timer.Stop()
	for {
		var lockErr error
		if err := sc.Control(func(fd uintptr) {
			lockErr = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
		}); err != nil {
			lockErr = err
		}
		if lockErr == nil {
			// Closing the descriptor releases the lock.
			return func() { dir.Close() }, nil
		}
		if !errors.Is(lockErr, unix.EWOULDBLOCK) && !errors.Is(lockErr, unix.EINTR) {
			dir.Close()
			return nil, fmt.Errorf("locking %s: %w", SocketDir, lockErr)
		}
		select {
		case <-ctx.Done():
			dir.Close()
			return nil, fmt.Errorf("locking %s: %w", SocketDir, context.Cause(ctx))
		case <-timer.C:
			dir.Close()
			return nil, fmt.Errorf("locking %s: another process held the lock for %v", SocketDir, lockTimeout)
		case <-time.After(lockPollInterval):
		}
	}
}

// removeStaleSocket removes the UAPI socket of name if nobody listens on
// it, which happens when its daemon was killed with SIGKILL. It returns an
// error wrapping fs.ErrExist if the socket is live.
func removeStaleSocket(name string, logf func(string, ...any)) error {
	path := socketPath(name)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking UAPI socket: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, probeTimeout)
	if err == nil {
		c.Close()
		return existsError(fmt.Sprintf("interface %s already exists: its UAPI socket %s is in use", name, path))
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("probing UAPI socket: %w", err)
	}
	logf("Removing stale UAPI socket %s", path)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing stale UAPI socket: %w", err)
	}
	return nil
}

// tunError describes a failure of tun.CreateTUN for name.
func tunError(name string, err error) error {
	switch {
	case errors.Is(err, unix.EBUSY):
		// TUNSETIFF on a TUN interface that already has a queue.
		return existsError(fmt.Sprintf("interface %s already exists: its TUN device is in use", name))
	case errors.Is(err, unix.EINVAL):
		// TUNSETIFF on an interface that is no TUN device.
		if _, ierr := net.InterfaceByName(name); ierr == nil {
			return existsError(fmt.Sprintf("interface %s already exists and is not a TUN device", name))
		}
	}
	return fmt.Errorf("creating TUN device %s: %w", name, err)
}

// removeSocket removes the socket file at path if it is still the one
// described by ours; a socket another process bound since is left alone.
func removeSocket(path string, ours fs.FileInfo) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking UAPI socket: %w", err)
	}
	if !os.SameFile(fi, ours) {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing UAPI socket: %w", err)
	}
	return nil
}

// connSet tracks the open UAPI connections so that Run can close them.
type connSet struct {
	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	// afterFirst, if set, runs once, after the first request is served.
	afterFirst func()
	firstOnce  sync.Once
}

// acceptLoop hands each connection uapi accepts to dev.IpcHandle and sends
// the first error to errc.
//
// The ipc listener reports exactly two errors in its life, one from its
// inotify watcher and one from its accept loop, on a channel with room for
// one; acceptLoop receives both so neither goroutine stays blocked.
func (s *connSet) acceptLoop(uapi net.Listener, dev *device.Device, errc chan<- error) {
	for errs := 0; errs < 2; {
		c, err := uapi.Accept()
		if err != nil {
			if errs == 0 {
				errc <- err
			}
			errs++
			continue
		}
		s.serve(c, dev)
	}
}

// serve runs dev.IpcHandle for c on a new goroutine, or closes c if the set
// is closed.
func (s *connSet) serve(c net.Conn, dev *device.Device) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		dev.IpcHandle(c) // closes c
		if s.afterFirst != nil {
			s.firstOnce.Do(s.afterFirst)
		}
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
}

// closeAll closes every open connection, makes serve close new ones, and
// waits for the handlers to return.
func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
