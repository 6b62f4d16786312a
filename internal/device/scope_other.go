//go:build !linux

package device

import "golang.zx2c4.com/wireguard/wgctrl/wgtypes"

// kernelZones does nothing: kernel WireGuard devices are Linux's.
func kernelZones(*wgtypes.Device) error { return nil }

// setKernelScopes does nothing: kernel WireGuard devices are Linux's.
func setKernelScopes(string, wgtypes.Config) error { return nil }
