package nettest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// commandTimeout bounds every external command a helper runs.
	commandTimeout = 30 * time.Second
	// waitDelay bounds how long a finished command's output pipes may stay
	// open, for example because it left a daemon holding them.
	waitDelay = 2 * time.Second

	// maxIfNameLen is IFNAMSIZ-1, the kernel's limit on interface names.
	maxIfNameLen = 15
)

// socketDir is where userspace WireGuard implementations put their UAPI
// sockets. It is shared by all network namespaces.
const socketDir = "/var/run/wireguard"

// InCI reports whether the tests run in CI, that is whether the environment
// variable CI is "true". In CI a missing prerequisite fails a test instead of
// skipping it.
func InCI() bool {
	return os.Getenv("CI") == "true"
}

// Require skips the test with reason when ok is false or, in CI (see
// [InCI]), fails it.
func Require(t testing.TB, ok bool, reason string) {
	t.Helper()
	if ok {
		return
	}
	if InCI() {
		t.Fatalf("missing prerequisite: %s (CI=true, so this is a failure, not a skip)", reason)
		return
	}
	t.Skipf("missing prerequisite: %s", reason)
}

// RequireRoot requires the test to run with effective user ID 0.
func RequireRoot(t testing.TB) {
	t.Helper()
	Require(t, os.Geteuid() == 0, fmt.Sprintf("test needs root (euid is %d)", os.Geteuid()))
}

// RequireBinary requires the program name to be found by [exec.LookPath] and
// returns its path.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	Require(t, err == nil, fmt.Sprintf("program %q not found: %v", name, err))
	return path
}

var (
	// nameCounter makes names unique within the process; the process ID
	// makes them unique between processes.
	nameCounter atomic.Uint64

	ifNamePrefixRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_=+.]*$`)
)

// UniqueIfName returns an interface name that no other call in this process,
// nor any other process using this package, returns while this process runs.
// The name is prefix-PID-N with PID and N in base 36, for example
// "wgt-pa8-0", and fits the kernel's 15-character limit (the test fails if
// prefix is too long). prefix must start with a letter and may not contain
// '-', which keeps the encoding unambiguous. Names whose UAPI socket already
// exists in /var/run/wireguard, such as leftovers of a killed test binary, are
// passed over.
func UniqueIfName(t testing.TB, prefix string) string {
	t.Helper()
	if !ifNamePrefixRE.MatchString(prefix) {
		t.Fatalf("UniqueIfName: prefix %q must match %s", prefix, ifNamePrefixRE)
	}
	pid := strconv.FormatInt(int64(os.Getpid()), 36)
	for range 1000 {
		n := nameCounter.Add(1) - 1
		name := prefix + "-" + pid + "-" + strconv.FormatUint(n, 36)
		if len(name) > maxIfNameLen {
			t.Fatalf("UniqueIfName: %q is longer than %d characters; use a shorter prefix than %q", name, maxIfNameLen, prefix)
		}
		if _, err := os.Lstat(socketPath(name)); errors.Is(err, fs.ErrNotExist) {
			return name
		}
	}
	t.Fatalf("UniqueIfName: no free name with prefix %q after 1000 tries; clean up %s", prefix, socketDir)
	return ""
}

// socketPath returns the UAPI socket path of the userspace device ifname.
func socketPath(ifname string) string {
	return filepath.Join(socketDir, ifname+".sock")
}

// runAs runs the command newCmd builds with a context that ends after
// timeout, the given standard input and the test's environment, and
// returns its output and exit code; a non-zero exit is not a failure. The
// test fails if the command cannot be started, is killed by a signal, or
// outlives timeout.
func runAs(t testing.TB, timeout time.Duration, newCmd func(context.Context) *exec.Cmd, stdin string) (stdout, stderr string, exitCode int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := newCmd(ctx)
	cmd.Stdin = strings.NewReader(stdin)
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout = &outBuf
	cmd.Stderr = &errBuf
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	stdout, stderr = outBuf.String(), errBuf.String()
	if ctx.Err() != nil {
		t.Fatalf("%s: timed out after %v\nstdout:\n%s\nstderr:\n%s", cmd, timeout, stdout, stderr)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return stdout, stderr, 0
	case errors.As(err, &exitErr) && exitErr.Exited():
		return stdout, stderr, exitErr.ExitCode()
	default:
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", cmd, err, stdout, stderr)
		return stdout, stderr, -1
	}
}

// MustPrefix parses s as a CIDR prefix, such as "10.0.0.1/24", and panics if
// it is not one. It is meant for test tables.
func MustPrefix(s string) netip.Prefix {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		panic(fmt.Sprintf("nettest.MustPrefix: %v", err))
	}
	return p
}

// MustAddr parses s as an IP address and panics if it is not one. It is meant
// for test tables.
func MustAddr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		panic(fmt.Sprintf("nettest.MustAddr: %v", err))
	}
	return a
}
