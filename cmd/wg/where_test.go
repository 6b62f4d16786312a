package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgtools/wgtools/internal/nettest"
)

// refWGPath is the reference wg, named by path so that a build of ours
// earlier in PATH is never taken for it.
const refWGPath = "/usr/bin/wg"

// runWGTimeout bounds one wg run on a kernel device: in the VM (emulated,
// 10–30× slower than natively) setconf or syncconf of 10,000 peers takes
// tens of seconds.
const runWGTimeout = 5 * time.Minute

// wgAt runs the reference wg and ours where a device is reachable. A
// wireguard-go device is reachable from anywhere through its socket, so
// there the reference runs from PATH and ours in-process (refWG, ourWG).
// A kernel device (nettest.KernelDevices, the VM stage) is reachable only
// over netlink from inside its namespace, so there both run as processes in
// ns, invoked as "wg" so that usage and error texts match.
type wgAt struct {
	ns *nettest.NetNS
}

func (w wgAt) ref(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	if !nettest.KernelDevices() {
		return refWG(t, stdin, args...)
	}
	return runWGIn(t, w.ns, filepath.Dir(refWGPath), stdin, args...)
}

func (w wgAt) ours(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	if !nettest.KernelDevices() {
		return ourWG(stdin, args...)
	}
	return runWGIn(t, w.ns, filepath.Dir(nettest.OurBinary(t, "wg")), stdin, args...)
}

// runWGIn runs the wg in dir inside ns with the test's environment, as
// "wg": env(1) looks it up in a PATH of dir alone, so argv[0] is "wg". A
// non-zero exit is a result, not a failure; a run over runWGTimeout fails
// the test. It logs how long each run took.
func runWGIn(t *testing.T, ns *nettest.NetNS, dir, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runWGTimeout)
	defer cancel()
	start := time.Now()
	defer func() {
		t.Logf("%s: wg %s: %v", dir, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	}()
	cmd := ns.Command(ctx, "/usr/bin/env", append([]string{"PATH=" + dir, "wg"}, args...)...)
	cmd.Env = os.Environ()
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s: timed out\n%s", cmd, e.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return result{o.String(), e.String(), 0}
	case errors.As(err, &ee) && ee.Exited():
		return result{o.String(), e.String(), ee.ExitCode()}
	default:
		t.Fatalf("%s: %v\n%s", cmd, err, e.String())
		return result{}
	}
}
