package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgtools/wgtools/internal/nettest"
)

// runWGTimeout bounds one wg run on a kernel device: in the VM (emulated,
// 10–30× slower than natively) setconf or syncconf of 10,000 peers takes
// tens of seconds.
const runWGTimeout = 5 * time.Minute

// wgAt runs the reference wg and ours where a device is reachable. A
// wireguard-go device is reachable from anywhere through its socket, so
// there the reference runs by its pinned path and ours in-process (refWG,
// ourWG).
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
	return runWGIn(t, w.ns, filepath.Dir(nettest.Reference(t, "wg")), stdin, args...)
}

func (w wgAt) ours(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	if !nettest.KernelDevices() {
		return ourWG(stdin, args...)
	}
	return runWGIn(t, w.ns, filepath.Dir(nettest.OurBinary(t, "wg")), stdin, args...)
}

// runWGIn runs the wg in dir inside ns (nettest's NetNS.RunProgram, as
// "wg"), bounded by runWGTimeout, and logs how long it took.
func runWGIn(t *testing.T, ns *nettest.NetNS, dir, stdin string, args ...string) result {
	t.Helper()
	start := time.Now()
	o, e, code := ns.RunProgram(t, runWGTimeout, dir, "wg", stdin, args...)
	t.Logf("%s: wg %s: %v", dir, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	return result{o, e, code}
}
