//go:build !linux

package nettest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"testing"
	"time"
)

// errNetNS is what namespace operations return on systems other than Linux.
var errNetNS = fmt.Errorf("network namespaces: %w", errors.ErrUnsupported)

// unsupported is the prerequisite these helpers lack outside Linux.
const unsupported = "network namespaces, TUN and wireguard-go helpers need Linux"

// RequireTUN requires /dev/net/tun, which this package supports only on Linux.
func RequireTUN(t testing.TB) {
	t.Helper()
	Require(t, false, unsupported)
}

// NetNS is a named network namespace; they exist only on Linux.
type NetNS struct {
	// Name is the namespace's name for "ip netns" and "ip -n".
	Name string
}

// NewNetNS skips the test, or fails it in CI: network namespaces need Linux.
func NewNetNS(t testing.TB) *NetNS {
	t.Helper()
	Require(t, false, unsupported)
	return nil
}

// Do returns an error wrapping [errors.ErrUnsupported].
func (n *NetNS) Do(fn func() error) error {
	return errNetNS
}

// Command returns a command whose Start fails with an error wrapping
// [errors.ErrUnsupported].
func (n *NetNS) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Err = errNetNS
	return cmd
}

// Run skips the test, or fails it in CI: network namespaces need Linux.
func (n *NetNS) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	Require(t, false, unsupported)
	return ""
}

// Veth skips the test, or fails it in CI: network namespaces need Linux.
func Veth(t testing.TB, a *NetNS, aName string, aAddr string, b *NetNS, bName string, bAddr string) {
	t.Helper()
	Require(t, false, unsupported)
}

// WireGuardGo is a reference userspace WireGuard device; this package starts
// them only on Linux.
type WireGuardGo struct {
	// Name is the interface name.
	Name string
	// NS is the namespace the interface is in.
	NS *NetNS
	// Socket is the path of the UAPI socket,
	// /var/run/wireguard/<Name>.sock.
	Socket string
}

// StartWireGuardGo skips the test, or fails it in CI: it needs Linux.
func StartWireGuardGo(t testing.TB, ns *NetNS, ifname string) *WireGuardGo {
	t.Helper()
	Require(t, false, unsupported)
	return nil
}

// Output returns nothing: no process runs outside Linux.
func (w *WireGuardGo) Output() string {
	return ""
}

// KernelDevices reports false: kernel WireGuard devices exist only on Linux.
func KernelDevices() bool { return false }

// NewDevice skips the test, or fails it in CI: WireGuard devices need Linux.
func NewDevice(t testing.TB, ns *NetNS, ifname string) {
	t.Helper()
	Require(t, false, unsupported)
}

// RunProgram skips the test, or fails it in CI: network namespaces need
// Linux.
func (n *NetNS) RunProgram(t testing.TB, timeout time.Duration, dir, name, stdin string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	Require(t, false, unsupported)
	return "", "", -1
}
