package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/nettest"
)

// The tests in this file compare the package with the reference C
// implementation, wireguard-tools' wg (Debian 1.0.20210914), run as a
// subprocess.

// referenceParallelism bounds concurrent reference processes; the test
// machines are small and shared.
const referenceParallelism = 2

// requireReference returns the path of the reference wg; without it the
// test skips, or fails in CI (nettest.Require).
func requireReference(t *testing.T) string {
	t.Helper()
	return nettest.Reference(t, "wg")
}

// wgResult is what one reference run produced.
type wgResult struct {
	stdout, stderr string
	exitCode       int
}

// runWG runs the reference wg with args, stdin and optional extra files
// (which become fd 3, 4, …).
func runWG(t *testing.T, wg string, stdin io.Reader, stdout *os.File, extra []*os.File, args ...string) wgResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wg, args...)
	// wg prefixes its messages with argv[0]; run it as a shell would when
	// found through PATH.
	cmd.Args[0] = "wg"
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Stdin = stdin
	cmd.ExtraFiles = extra
	var out, errOut bytes.Buffer
	if stdout != nil {
		cmd.Stdout = stdout
	} else {
		cmd.Stdout = &out
	}
	cmd.Stderr = &errOut
	err := cmd.Run()
	res := wgResult{stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.exitCode = ee.ExitCode()
	default:
		t.Fatalf("running %s %s: %v", wg, strings.Join(args, " "), err)
	}
	return res
}

// TestReferencePublic derives public keys for random clamped and unclamped
// private keys with both implementations.
func TestReferencePublic(t *testing.T) {
	wg := requireReference(t)

	n := 1000
	if testing.Short() {
		n = 50
	}
	privs := []wgtypes.Key{{}, wgtypes.Key(bytesOf(0xff)), wgtypes.Key(bytesOf(0x01)), wgtypes.Key(seq())}
	for i := len(privs); i < n; i++ {
		if i%4 == 0 {
			k, err := GeneratePrivate()
			if err != nil {
				t.Fatal(err)
			}
			privs = append(privs, k)
		} else {
			privs = append(privs, randomKey(t))
		}
	}

	var (
		workers  sync.WaitGroup
		failures atomic.Int32
		next     atomic.Int32
	)
	for range referenceParallelism {
		workers.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(privs) || failures.Load() >= 10 {
					return
				}
				priv := Encode(privs[i])
				res := runWG(t, wg, strings.NewReader(priv+"\n"), nil, nil, "pubkey")
				want := Encode(Public(privs[i])) + "\n"
				if res.exitCode != 0 || res.stdout != want || res.stderr != "" {
					failures.Add(1)
					t.Errorf("wg pubkey <<< %s: exit %d, stdout %q, stderr %q; we derive %q",
						priv, res.exitCode, res.stdout, res.stderr, want)
				}
			}
		})
	}
	workers.Wait()
}

// TestReferencePubkeyInput feeds each pubkeyInputTests input to the
// reference wg pubkey and to ReadPubkeyInput.
func TestReferencePubkeyInput(t *testing.T) {
	wg := requireReference(t)
	for _, tt := range pubkeyInputTests {
		t.Run(tt.name, func(t *testing.T) {
			res := runWG(t, wg, strings.NewReader(tt.in), nil, nil, "pubkey")
			k, err := ReadPubkeyInput(strings.NewReader(tt.in))

			if res.exitCode != 0 {
				if res.stdout != "" || !strings.HasPrefix(res.stderr, "wg: ") || !strings.HasSuffix(res.stderr, "\n") {
					t.Fatalf("unexpected reference output: exit %d, stdout %q, stderr %q", res.exitCode, res.stdout, res.stderr)
				}
				want := strings.TrimSuffix(strings.TrimPrefix(res.stderr, "wg: "), "\n")
				if diff := cmp.Diff(want, errText(err)); diff != "" {
					t.Errorf("error differs from the reference (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.err, want); diff != "" {
					t.Errorf("reference differs from the table (-want +got):\n%s", diff)
				}
				return
			}

			if res.stderr != "" {
				t.Errorf("reference wrote to stderr on success: %q", res.stderr)
			}
			if err != nil {
				t.Fatalf("reference accepted the input, ReadPubkeyInput: %v", err)
			}
			if diff := cmp.Diff(res.stdout, Encode(Public(k))+"\n"); diff != "" {
				t.Errorf("public key differs from the reference (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.pub+"\n", res.stdout); diff != "" {
				t.Errorf("reference differs from the table (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReferenceGenerate checks that keys from wg genkey and genpsk parse
// strictly and round-trip, that genkey's are clamped as GeneratePrivate's
// are, and that wg pubkey agrees with Public on our generated keys.
func TestReferenceGenerate(t *testing.T) {
	wg := requireReference(t)
	const n = 25

	for i := 0; i < n; i++ {
		for _, sub := range []string{"genkey", "genpsk"} {
			res := runWG(t, wg, nil, nil, nil, sub)
			if res.exitCode != 0 || res.stderr != "" || !strings.HasSuffix(res.stdout, "\n") {
				t.Fatalf("wg %s: exit %d, stdout %q, stderr %q", sub, res.exitCode, res.stdout, res.stderr)
			}
			s := strings.TrimSuffix(res.stdout, "\n")
			k, err := Parse(s)
			if err != nil {
				t.Fatalf("Parse(wg %s output %q): %v", sub, s, err)
			}
			if got := Encode(k); got != s {
				t.Errorf("Encode(Parse(%q)) = %q", s, got)
			}
			if sub == "genkey" {
				assertClamped(t, k)
			}
			pub := runWG(t, wg, strings.NewReader(res.stdout), nil, nil, "pubkey")
			if want := Encode(Public(k)) + "\n"; pub.stdout != want {
				t.Errorf("wg %s | wg pubkey = %q, Public gives %q", sub, pub.stdout, want)
			}
		}

		k, err := GeneratePrivate()
		if err != nil {
			t.Fatal(err)
		}
		assertClamped(t, k)
		res := runWG(t, wg, strings.NewReader(Encode(k)+"\n"), nil, nil, "pubkey")
		if want := Encode(Public(k)) + "\n"; res.stdout != want {
			t.Errorf("wg pubkey <<< GeneratePrivate() = %q, Public gives %q", res.stdout, want)
		}
	}
}

// TestReferenceWorldAccessible runs wg genkey with standard output
// redirected to files of various modes and checks that WorldAccessible
// predicts its warning.
func TestReferenceWorldAccessible(t *testing.T) {
	wg := requireReference(t)
	const warning = "Warning: writing to world accessible file.\nConsider setting the umask to 077 and trying again.\n"
	dir := t.TempDir()

	outputs := map[string]func(t *testing.T) *os.File{
		"dev null": func(t *testing.T) *os.File {
			f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		},
		"pipe": func(t *testing.T) *os.File {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			go io.Copy(io.Discard, r)
			t.Cleanup(func() { w.Close(); r.Close() })
			return w
		},
	}
	for _, mode := range []os.FileMode{0o600, 0o640, 0o660, 0o670, 0o601, 0o602, 0o604, 0o644, 0o666, 0o777, 0o000, 0o007} {
		name := filepath.Join(dir, mode.String())
		outputs["file "+mode.String()] = func(t *testing.T) *os.File {
			return createWithMode(t, name, mode)
		}
	}

	for name, open := range outputs {
		t.Run(name, func(t *testing.T) {
			f := open(t)
			want := WorldAccessible(f)
			res := runWG(t, wg, nil, f, nil, "genkey")
			if res.exitCode != 0 {
				t.Fatalf("wg genkey: exit %d, stderr %q", res.exitCode, res.stderr)
			}
			var got bool
			switch res.stderr {
			case "":
			case warning:
				got = true
			default:
				t.Fatalf("unexpected wg genkey stderr %q", res.stderr)
			}
			if got != want {
				t.Errorf("reference warned: %v, WorldAccessible: %v", got, want)
			}
		})
	}
}

// TestReferenceKeyFile reads each keyFileTests content as a key file with
// the reference wg set and with ReadKeyFile, from a regular file and from a
// pipe.
//
// wg set parses its key files before it contacts the device, so a parse
// error is its only output; after a successful parse it fails with "Unable
// to modify interface: …". The interface name contains '/', which no
// network device can have, so nothing is ever modified.
func TestReferenceKeyFile(t *testing.T) {
	wg := requireReference(t)
	const iface = "wg/keystest"
	dir := t.TempDir()

	// compare checks a reference run against ReadKeyFile's error; the keys
	// themselves are checked against the table in TestReadKeyFile.
	compare := func(t *testing.T, res wgResult, err error) {
		t.Helper()
		if res.exitCode == 0 {
			t.Fatalf("wg set on %q succeeded", iface)
		}
		if strings.HasPrefix(res.stderr, "Unable to modify interface") {
			if err != nil {
				t.Errorf("reference accepted the key file, ReadKeyFile: %v", err)
			}
			return
		}
		if diff := cmp.Diff(strings.TrimSuffix(res.stderr, "\n"), errText(err)); diff != "" {
			t.Errorf("error differs from the reference (-want +got):\n%s", diff)
		}
	}

	for i, tt := range keyFileTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Run("file", func(t *testing.T) {
				path := filepath.Join(dir, fmt.Sprintf("key%d", i))
				if err := os.WriteFile(path, []byte(tt.in), 0o600); err != nil {
					t.Fatal(err)
				}
				res := runWG(t, wg, nil, nil, nil, "set", iface, "private-key", path)
				_, err := ReadKeyFile(openFile(path)(t))
				compare(t, res, err)
			})
			if len(tt.in) > 4096 {
				return
			}
			t.Run("pipe", func(t *testing.T) {
				ref := pipeWith(tt.in)(t).(*os.File)
				res := runWG(t, wg, nil, nil, []*os.File{ref}, "set", iface, "private-key", "/dev/fd/3")
				_, err := ReadKeyFile(pipeWith(tt.in)(t))
				compare(t, res, err)
			})
		})
	}

	t.Run("dev null", func(t *testing.T) {
		res := runWG(t, wg, nil, nil, nil, "set", iface, "private-key", os.DevNull)
		_, err := ReadKeyFile(openFile(os.DevNull)(t))
		compare(t, res, err)
	})
	t.Run("directory", func(t *testing.T) {
		res := runWG(t, wg, nil, nil, nil, "set", iface, "private-key", dir)
		_, err := ReadKeyFile(openFile(dir)(t))
		compare(t, res, err)
	})
}
