package nettest

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestVethPing(t *testing.T) {
	t.Parallel()
	RequireBinary(t, "ping")
	a, b := NewNetNS(t), NewNetNS(t)
	Veth(t, a, "veth-a", "10.77.0.1/24", b, "veth-b", "10.77.0.2/24")

	a.Run(t, "ping", "-c1", "-W2", "10.77.0.2")
	b.Run(t, "ping", "-c1", "-W2", "10.77.0.1")
}

func TestVethIPv6(t *testing.T) {
	t.Parallel()
	RequireBinary(t, "ping")
	a, b := NewNetNS(t), NewNetNS(t)
	Veth(t, a, "veth-a", "fd77::1/64", b, "veth-b", "fd77::2/64")

	// nodad makes the address usable at once; without it ping would fail
	// while the address is tentative.
	a.Run(t, "ping", "-c1", "-W2", "fd77::2")
}

func TestDo(t *testing.T) {
	t.Parallel()
	a, b := NewNetNS(t), NewNetNS(t)
	Veth(t, a, "veth-a", "10.78.0.1/24", b, "veth-b", "10.78.0.2/24")

	var names []string
	err := a.Do(func() error {
		ifs, err := net.Interfaces()
		for _, ifi := range ifs {
			names = append(names, ifi.Name)
		}
		return err
	})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if got, want := strings.Join(names, ","), "lo,veth-a"; got != want {
		t.Errorf("interfaces in %s = %s, want %s", a.Name, got, want)
	}

	// A socket opened inside Do stays in the namespace.
	var ln net.Listener
	if err := b.Do(func() (err error) {
		ln, err = net.Listen("tcp4", "10.78.0.2:0")
		return err
	}); err != nil {
		t.Fatalf("listening in %s: %v", b.Name, err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	if err := a.Do(func() error {
		d := net.Dialer{Timeout: 5 * time.Second}
		c, err := d.Dial("tcp4", net.JoinHostPort("10.78.0.2", strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return c.Close()
	}); err != nil {
		t.Fatalf("dialing from %s: %v", a.Name, err)
	}
	select {
	case err := <-accepted:
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("connection not accepted within 5s")
	}

	sentinel := errors.New("sentinel")
	if err := a.Do(func() error { return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("Do returned %v, want %v", err, sentinel)
	}

	// t.FailNow inside fn would end fn's goroutine, not the test; Do
	// reports that instead of returning nil.
	if err := a.Do(func() error { runtime.Goexit(); return nil }); !errors.Is(err, errGoexit) {
		t.Errorf("Do with runtime.Goexit returned %v, want %v", err, errGoexit)
	}

	func() {
		defer func() {
			if got := recover(); got != "boom" {
				t.Errorf("recovered %v, want the panic from fn", got)
			}
		}()
		_ = a.Do(func() error { panic("boom") })
	}()
}

func TestStartWireGuardGo(t *testing.T) {
	t.Parallel()
	ns := NewNetNS(t)
	dev := StartWireGuardGo(t, ns, UniqueIfName(t, "wgt"))

	// The interface is in the namespace, not the host.
	ns.Run(t, "ip", "link", "show", "dev", dev.Name)
	if _, err := net.InterfaceByName(dev.Name); err == nil {
		t.Errorf("interface %s exists in the host namespace", dev.Name)
	}

	key, stderr, code := RunWG(t, "", "genkey")
	if code != 0 {
		t.Fatalf("wg genkey: exit %d: %s", code, stderr)
	}
	keyFile := filepath.Join(t.TempDir(), "private.key")
	if err := os.WriteFile(keyFile, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := RunWG(t, "", "set", dev.Name, "listen-port", "51000", "private-key", keyFile); code != 0 {
		t.Fatalf("wg set: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := RunWG(t, "", "show", dev.Name, "listen-port")
	if code != 0 {
		t.Fatalf("wg show: exit %d: %s", code, stderr)
	}
	if got, want := stdout, "51000\n"; got != want {
		t.Errorf("wg show %s listen-port = %q, want %q", dev.Name, got, want)
	}
	pub, stderr, code := RunWG(t, key, "pubkey")
	if code != 0 {
		t.Fatalf("wg pubkey: exit %d: %s", code, stderr)
	}
	if stdout, _, _ := RunWG(t, "", "show", dev.Name, "public-key"); stdout != pub {
		t.Errorf("wg show %s public-key = %q, want %q", dev.Name, stdout, pub)
	}

	// wg's exit code for a missing device is returned, not a failure.
	if _, _, code := RunWG(t, "", "show", UniqueIfName(t, "wgt"), "listen-port"); code == 0 {
		t.Errorf("wg show on a missing device exited 0")
	}
}

// TestCleanup checks that what a test creates is gone once it ends.
func TestCleanup(t *testing.T) {
	t.Parallel()
	var (
		nsName, socket string
		dev            *WireGuardGo
		stray          *os.Process
		strayDone      = make(chan struct{})
	)
	t.Run("create", func(t *testing.T) {
		ns := NewNetNS(t)
		dev = StartWireGuardGo(t, ns, UniqueIfName(t, "wgt"))
		nsName, socket = ns.Name, dev.Socket

		// A process left running in the namespace is killed.
		cmd := ns.Command(context.Background(), "sleep", "600")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stray = cmd.Process
		go func() {
			cmd.Wait()
			close(strayDone)
		}()
	})
	if stray != nil {
		t.Cleanup(func() { stray.Kill() }) // in case NetNS cleanup did not
		select {
		case <-strayDone:
		case <-time.After(5 * time.Second):
			t.Errorf("process %d left in namespace %s still running", stray.Pid, nsName)
		}
	}
	if nsName == "" || socket == "" {
		t.Fatal("create failed")
	}

	if _, err := os.Lstat(filepath.Join(netnsDir, nsName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("namespace %s still exists (err=%v)", nsName, err)
	}
	out, err := runCommand("ip", "netns", "list")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, f := range strings.Fields(out) {
		if f == nsName {
			t.Errorf("ip netns list still shows %s:\n%s", nsName, out)
		}
	}
	if _, err := os.Lstat(socket); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket %s still exists (err=%v)", socket, err)
	}
	select {
	case <-dev.done: // exited and reaped
	default:
		t.Errorf("wireguard-go %s (pid %d) still running", dev.Name, dev.pid)
	}
}
