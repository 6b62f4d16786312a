package nettest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// deviceEnv selects the kind of WireGuard device [NewDevice] creates:
// "kernel" for kernel links (the VM stage of scripts/vm sets it, where
// Debian's kernel has the module), anything else for wireguard-go.
const deviceEnv = "WGTOOLS_TEST_DEVICE"

// deleteTimeout bounds deleting a kernel device in cleanup.
const deleteTimeout = 5 * time.Minute

// KernelDevices reports whether the tests run on kernel WireGuard devices
// (WGTOOLS_TEST_DEVICE=kernel) rather than on wireguard-go.
func KernelDevices() bool {
	return os.Getenv(deviceEnv) == "kernel"
}

// NewDevice creates the WireGuard device ifname in ns, of the kind the run
// asks for (see [KernelDevices]): a kernel link made with
// "ip link add IF type wireguard", deleted in t.Cleanup, or a wireguard-go
// device as [StartWireGuardGo] starts it. Either way it is down and
// unconfigured, and wg(8) reaches it from inside ns (a wireguard-go device
// also from anywhere, through its socket).
func NewDevice(t testing.TB, ns *NetNS, ifname string) {
	t.Helper()
	if !KernelDevices() {
		StartWireGuardGo(t, ns, ifname)
		return
	}
	RequireRoot(t)
	if ns == nil {
		t.Fatalf("NewDevice: need a namespace from NewNetNS; tests must not change the host namespace")
	}
	ns.Run(t, "ip", "link", "add", ifname, "type", "wireguard")
	t.Cleanup(func() {
		// Deleting the namespace would take the link with it; deleting it
		// first keeps the order of cleanups the same for both kinds. A
		// link with many peers takes a while (an RCU grace period each).
		ctx, cancel := context.WithTimeout(context.Background(), deleteTimeout)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "ip", "-n", ns.Name, "link", "del", ifname).CombinedOutput(); err != nil {
			t.Errorf("deleting %s: %v\n%s", ifname, err, out)
		}
	})
}
