//go:build !linux

package quick

// NamespaceStateDir is StateDir: network namespaces exist only on Linux.
func NamespaceStateDir() string { return StateDir }
