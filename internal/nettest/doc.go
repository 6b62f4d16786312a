// Package nettest holds helpers for tests that need real network state:
// root, TUN devices, throwaway network namespaces, veth pairs, a running
// reference userspace WireGuard device (wireguard-go) and the reference wg(8)
// binary.
//
// It is imported only from _test.go files.
//
// # Prerequisites
//
// Every Require… helper checks one prerequisite. Outside CI a missing
// prerequisite skips the test with the reason. When the environment variable
// CI is "true" it fails the test instead, so a misconfigured CI runner cannot
// silently skip the privileged tests. On systems other than Linux the
// namespace and device helpers are missing prerequisites too.
//
// # Isolation and cleanup
//
// Tests never change the host network namespace: [NewNetNS] creates a
// uniquely named namespace (visible to "ip netns exec", so subprocess-based
// tests can use it) and [Veth] joins two of them. Everything a helper
// creates is removed in t.Cleanup, in reverse order of creation, even when
// the test fails.
//
// Userspace WireGuard devices are the exception to namespace isolation:
// their UAPI sockets live in /var/run/wireguard/<ifname>.sock, which all
// network namespaces share. Name devices with [UniqueIfName] so that parallel
// tests, and parallel test binaries, never collide.
package nettest
