package show

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/nettest"
)

// The reference tests run the reference wg(8) against fake userspace
// devices and compare its output byte for byte with ours.
//
// wg finds userspace devices as sockets in /var/run/wireguard. Instead of
// putting the fake sockets there, each test gives wg a private mount
// namespace in which a temporary directory is bind-mounted over /var/run.
// That way the tests can use the fixed interface names of the golden files,
// "wg show all" sees only the test's devices (in the shared directory it
// would also try every other device on the machine, and unlink the sockets
// of devices that are just starting up), and nothing is left behind in the
// host's /var/run/wireguard, whatever happens to the test binary.

// referenceWG is the reference wg(8), by its pinned path.
var referenceWG = nettest.ReferenceDir + "/wg"

const (
	// referenceTimeout bounds one run of the reference wg.
	referenceTimeout = 30 * time.Second
	// uapiTimeout bounds one connection to a fake device.
	uapiTimeout = 10 * time.Second
)

// isolatedWG is the shell script that runs wg in the private mount
// namespace: $0 is the directory that stands in for /var/run.
var isolatedWG = `mount --bind "$0" /var/run && exec ` + referenceWG + ` "$@"`

// requireReference skips the test (or fails it in CI) unless the reference
// wg can be run against fake devices: that needs root, /usr/bin/wg and
// permission to create mount namespaces.
func requireReference(t *testing.T) {
	t.Helper()
	nettest.RequireRoot(t)
	nettest.Reference(t, "wg")
	dir := t.TempDir()
	err := os.Mkdir(filepath.Join(dir, "wireguard"), 0o755)
	if err == nil {
		err = exec.Command("unshare", "--mount", "--propagation", "private", "--",
			"sh", "-c", `mount --bind "$0" /var/run && test -d /var/run/wireguard`, dir).Run()
	}
	nettest.Require(t, err == nil, "cannot bind-mount a private /var/run in a new mount namespace: "+errString(err))
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// uapiServer is a fake userspace WireGuard device: it answers every request
// on its UAPI socket with the current text.
type uapiServer struct {
	ln   net.Listener
	text atomic.Pointer[string]
	wg   sync.WaitGroup
}

// fakeUAPI serves a fake userspace device on the unix socket path until the
// test ends, answering "get=1" with the text passed to set. It accepts any
// number of connections, including ones that close without a request (wg
// probes a socket by connecting to it before it asks for the device).
func fakeUAPI(t *testing.T, path string) *uapiServer {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("serving fake device: %v", err)
	}
	s := &uapiServer{ln: ln}
	s.set("errno=0\n\n")
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed by cleanup
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("removing fake device socket: %v", err)
		}
	})
	return s
}

// set changes the device state the server reports.
func (s *uapiServer) set(text string) {
	s.text.Store(&text)
}

// serve answers one connection: it reads the request up to its blank line
// and replies with the current text.
func (s *uapiServer) serve(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(uapiTimeout))
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return // a probe, or a broken client
		}
		if line == "\n" {
			break
		}
	}
	conn.Write([]byte(*s.text.Load()))
}

// runReference runs the reference wg with args in a mount namespace in which
// runDir replaces /var/run, with the WG_ variables of env replacing those of
// the test's environment. wg must succeed without printing to stderr.
func runReference(t *testing.T, runDir string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), referenceTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", append([]string{"--mount", "--propagation", "private", "--",
		"sh", "-c", isolatedWG, runDir}, args...)...)
	for _, v := range os.Environ() {
		if !strings.HasPrefix(v, "WG_") {
			cmd.Env = append(cmd.Env, v)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("wg %q: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// referenceArgs returns the wg arguments and environment for showing the
// interface name as r.
func referenceArgs(r rendering, name string) (args, env []string) {
	switch {
	case r.field == "":
		args = []string{"show", name}
		env = []string{"WG_COLOR_MODE=never"}
		if r.color {
			env = []string{"WG_COLOR_MODE=always"}
		}
		if !r.hide {
			env = append(env, "WG_HIDE_KEYS=never")
		}
	case r.withName:
		args = []string{"show", "all", r.field}
	default:
		args = []string{"show", name, r.field}
	}
	return args, env
}

// debianEndpoints turns the upstream output of "wg show all endpoints" for
// one interface into what the Debian reference (v1.0.20210914) prints: the
// name and a tab once before the first peer line instead of before every
// line, and alone, without a newline, when there are no peers.
func debianEndpoints(out, name string) string {
	prefix := name + "\t"
	return prefix + strings.ReplaceAll(strings.TrimPrefix(out, prefix), "\n"+prefix, "\n")
}

// TestReference checks every rendering of every test device, golden files
// included, against the reference wg.
func TestReference(t *testing.T) {
	requireReference(t)
	for _, c := range deviceCases() {
		t.Run(c.name, func(t *testing.T) {
			golden := c.build(goldenNow)
			name := deviceName(golden)
			runDir := t.TempDir()
			if err := os.Mkdir(filepath.Join(runDir, "wireguard"), 0o755); err != nil {
				t.Fatal(err)
			}
			srv := fakeUAPI(t, filepath.Join(runDir, "wireguard", golden.Name+".sock"))
			for _, r := range renderings() {
				t.Run(r.section(), func(t *testing.T) {
					args, env := referenceArgs(r, golden.Name)
					// wg measures handshake ages with its own clock, so
					// the device is built from the current time and the
					// run is repeated if the second changed meanwhile.
					var (
						got string
						d   *wgtypes.Device
						now time.Time
					)
					for attempt := 0; ; attempt++ {
						now = time.Now()
						d = c.build(now)
						srv.set(uapiText(d))
						got = runReference(t, runDir, env, args...)
						if time.Now().Unix() == now.Unix() {
							break
						}
						if attempt == 5 {
							t.Fatal("the clock ticked during every run of wg")
						}
					}
					want := render(t, r, d, now)
					if r.withName && r.field == "endpoints" {
						want = debianEndpoints(want, name)
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("our output differs from wg's (-ours +wg):\n%s", diff)
					}
					// Output without absolute times must not depend on
					// when the device was built, so it must also be what
					// the golden file holds.
					if !r.timeDependent() && !(r.withName && r.field == "endpoints") {
						if diff := cmp.Diff(render(t, r, golden, goldenNow), got); diff != "" {
							t.Errorf("golden output differs from wg's (-golden +wg):\n%s", diff)
						}
					}
				})
			}
		})
	}
}

// TestReferenceInterfaces checks the interface list against "wg show
// interfaces" for zero, one and several devices. wg lists userspace devices
// in directory order, so the names are taken in the order wg printed them.
func TestReferenceInterfaces(t *testing.T) {
	requireReference(t)
	tests := []struct {
		name  string
		names []string
	}{
		{"none", nil},
		{"one", []string{"wg0"}},
		{"several", []string{"wg0", "wg1", "peer", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runDir := t.TempDir()
			if err := os.Mkdir(filepath.Join(runDir, "wireguard"), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.names {
				fakeUAPI(t, filepath.Join(runDir, "wireguard", n+".sock"))
			}
			got := runReference(t, runDir, nil, "show", "interfaces")
			listed := strings.Fields(got)
			sorted := cmp.Options{cmpopts.SortSlices(func(a, b string) bool { return a < b }), cmpopts.EquateEmpty()}
			if diff := cmp.Diff(tt.names, listed, sorted); diff != "" {
				t.Fatalf("wg listed other interfaces (-want +wg):\n%s", diff)
			}
			var b bytes.Buffer
			if err := Interfaces(&b, listed); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(b.String(), got); diff != "" {
				t.Errorf("our output differs from wg's (-ours +wg):\n%s", diff)
			}
		})
	}
}
