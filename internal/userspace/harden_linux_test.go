package userspace

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/wgtools/wgtools/internal/nettest"
	"golang.org/x/sys/unix"
)

// wantCaps is keptCaps as /proc/PID/status shows a capability set.
func wantCaps() string {
	var m uint64
	for _, c := range keptCaps {
		m |= 1 << c
	}
	return fmt.Sprintf("%016x", m)
}

// requireHardened checks a /proc/PID/status text: only keptCaps
// effective, permitted and in the bounding set, none inheritable, and no
// new privileges.
func requireHardened(t *testing.T, who, status string) {
	t.Helper()
	want := map[string]string{"CapEff": wantCaps(), "CapPrm": wantCaps(), "CapBnd": wantCaps(), "CapInh": "0000000000000000", "NoNewPrivs": "1"}
	for _, line := range strings.Split(status, "\n") {
		k, v, _ := strings.Cut(line, ":")
		if w, ok := want[k]; ok {
			if got := strings.TrimSpace(v); got != w {
				t.Errorf("%s: %s %s, want %s", who, k, got, w)
			}
			delete(want, k)
		}
	}
	for k := range want {
		t.Errorf("%s: no %s in its status", who, k)
	}
}

// TestHarden: after Harden a process is not dumpable and holds only the
// capabilities the device uses (a root process holds them all before).
func TestHarden(t *testing.T) {
	nettest.RequireRoot(t)
	cmd := exec.Command(selfExe(t), "-test.run=^$")
	cmd.Env = helperEnviron("harden")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == exitCgo {
		// make test builds without cgo, as the release binaries are.
		nettest.Require(t, false, "a test binary built with cgo cannot drop capabilities on every thread; build with CGO_ENABLED=0 (make test does)")
	}
	if err != nil {
		t.Fatalf("harden helper: %v\n%s", err, stderr.String())
	}
	dumpable, status, _ := strings.Cut(string(out), "\n")
	if dumpable != "dumpable 0" {
		t.Errorf("after Harden: %q, want dumpable 0", dumpable)
	}
	requireHardened(t, "after Harden", status)
}

// cgoBuild reports whether this test binary was built with cgo, where
// Harden keeps the capabilities (see errCapsPerThread).
func cgoBuild() bool {
	_, _, errno := syscall.AllThreadsSyscall(syscall.SYS_GETPID, 0, 0, 0)
	return errno == syscall.ENOTSUP
}

// runHardenHelper is the harden helper (see runHelper).
func runHardenHelper() int {
	// Harden, then say what the process is left with.
	if err := Harden(); errors.Is(err, errCapsPerThread) {
		fmt.Fprintln(os.Stderr, err)
		return exitCgo
	} else if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("dumpable %d\n%s", d, status)
	return 0
}
