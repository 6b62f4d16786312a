package userspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wgtools/wgtools/internal/nettest"
	"golang.org/x/sys/unix"
)

// TestNameTaken checks the errors for an interface name that another
// interface has.
func TestNameTaken(t *testing.T) {
	t.Parallel()
	requireDaemonPrereqs(t)
	tests := []struct {
		name string
		// take makes an interface called ifname in ns.
		take func(t *testing.T, ns *nettest.NetNS, ifname string)
		want string
	}{
		{
			name: "not a TUN device",
			take: func(t *testing.T, ns *nettest.NetNS, ifname string) {
				// Not every kernel has dummy interfaces; every test
				// machine has veth.
				ns.Run(t, "ip", "link", "add", "dev", ifname, "type", "veth", "peer", "name", "vpeer")
			},
			want: "already exists and is not a TUN device",
		},
		{
			name: "TUN device in use",
			take: holdTUN,
			want: "already exists: its TUN device is in use",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := nettest.NewNetNS(t)
			name := nettest.UniqueIfName(t, "wgt")
			tt.take(t, ns, name)

			_, err := spawnDaemon(t, ns, name)
			if err == nil {
				t.Fatalf("Spawn succeeded on an interface name in use")
			}
			t.Logf("Spawn: %v", err)
			want := "interface " + name + " " + tt.want
			if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), want) {
				t.Errorf("Spawn: %q, want %q wrapping fs.ErrExist", err, want)
			}
			if socketExists(t, name) {
				t.Errorf("socket %s left behind", socketPath(name))
			}
			if !linkExists(t, ns, name) {
				t.Errorf("interface %s, not the daemon's, is gone", name)
			}
		})
	}
}

// holdTUN creates a TUN interface ifname in ns, attached to a descriptor
// this process holds until t.Cleanup closes it, which deletes the
// interface.
func holdTUN(t *testing.T, ns *nettest.NetNS, ifname string) {
	t.Helper()
	fd := -1
	err := ns.Do(func() error {
		var err error
		// The interface is created in the namespace of the calling
		// thread.
		if fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0); err != nil {
			return err
		}
		ifr, err := unix.NewIfreq(ifname)
		if err != nil {
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		return unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
	})
	if fd >= 0 {
		t.Cleanup(func() { unix.Close(fd) })
	}
	if err != nil {
		t.Fatalf("creating TUN %s in %s: %v", ifname, ns.Name, err)
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestForeground runs the daemon in the foreground, logging to stderr,
// checks the TUN and UDP offloads, and stops it with SIGTERM.
func TestForeground(t *testing.T) {
	t.Parallel()
	requireDaemonPrereqs(t)
	ns := nettest.NewNetNS(t)
	name := nettest.UniqueIfName(t, "wgt")

	cmd := ns.Command(context.Background(), selfExe(t), "-test.run=^$")
	cmd.Env = append(withoutTestEnv(os.Environ()), childEnv+"="+name, "LOG_LEVEL=verbose")
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := openProc(t, cmd.Process.Pid)
	var waitErr error
	done := make(chan struct{}) // closed once waitErr is set
	go func() {
		waitErr = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		p.stop(t, "daemon "+name)
		select {
		case <-done:
		case <-time.After(goneTimeout):
			t.Errorf("daemon output not closed")
		}
		if err := os.Remove(socketPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("removing socket: %v", err)
		}
		if t.Failed() {
			t.Logf("daemon output:\n%s", out.String())
		}
	})

	// No readiness pipe in the foreground: wait for the socket.
	deadline := time.Now().Add(spawnTimeout)
	for !socketExists(t, name) {
		if p.exited() {
			t.Fatalf("daemon exited before creating its socket")
		}
		if time.Now().After(deadline) {
			t.Fatalf("no socket %s after %v", socketPath(name), spawnTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	wgShow(t, name)
	if out := ns.Run(t, "ip", "link", "show", "dev", name); !strings.Contains(out, " mtu 1420 ") {
		t.Errorf("interface %s does not have MTU 1420:\n%s", name, out)
	}
	if !regexp.MustCompile(`DEBUG: \(` + regexp.QuoteMeta(name) + `\) TUN offloads \(GSO/GRO\) enabled, batch size \d+, MTU 1420`).MatchString(out.String()) {
		t.Errorf("no log message saying TUN offloads are on:\n%s", out.String())
	}

	t.Run("TUN offloads", func(t *testing.T) {
		features, err := ethtoolFeatures(ns, name)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"tx-checksum-ip-generic", "tx-tcp-segmentation", "tx-tcp6-segmentation"}
		// TUN_F_USO4/6 exist since Linux 6.2.
		if kernelAtLeast(t, 6, 2) {
			want = append(want, "tx-udp-segmentation")
		}
		for _, f := range want {
			if on, ok := features[f]; !ok || !on {
				t.Errorf("feature %s of %s: on=%v, known=%v; want on", f, name, on, ok)
			}
		}
	})

	t.Run("UDP GRO", func(t *testing.T) {
		// The device opens its UDP sockets when the interface goes up.
		ns.Run(t, "ip", "link", "set", "dev", name, "up")
		// The sockets are opened first and their options set after, so
		// look until every socket has both or the time is up: checking
		// the first look failed under load (UDP_GRO not yet set).
		var socks []udpSocket
		deadline := time.Now().Add(spawnTimeout)
		for {
			var err error
			if socks, err = udpSockets(p.pid); err != nil {
				t.Fatal(err)
			}
			ready := len(socks) > 0
			for _, s := range socks {
				ready = ready && s.gro && s.gso
			}
			if ready {
				break
			}
			if time.Now().After(deadline) {
				if len(socks) == 0 {
					t.Fatalf("daemon opened no UDP socket within %v of the interface going up", spawnTimeout)
				}
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		for _, s := range socks {
			if !s.gro || !s.gso {
				t.Errorf("UDP socket (fd %d, family %d): UDP_GRO on=%v, UDP_SEGMENT available=%v; want both", s.fd, s.family, s.gro, s.gso)
			}
		}
	})

	p.signal(syscall.SIGTERM)
	select {
	case <-done:
		if waitErr != nil {
			t.Errorf("daemon: %v, want exit status 0", waitErr)
		}
	case <-time.After(goneTimeout):
		t.Fatalf("daemon still running %v after SIGTERM", goneTimeout)
	}
	if socketExists(t, name) {
		t.Errorf("socket %s left behind", socketPath(name))
	}
	if linkExists(t, ns, name) {
		t.Errorf("interface %s left behind", name)
	}
	for _, want := range []string{"UAPI listener started", "Stopping: ", "Shut down"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, out.String())
		}
	}
}

// kernelAtLeast reports whether the running kernel's version is at least
// major.minor.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	t.Helper()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var maj, min int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &maj, &min); err != nil {
		t.Fatalf("parsing kernel release %q: %v", u.Release[:], err)
	}
	return maj > major || maj == major && min >= minor
}
