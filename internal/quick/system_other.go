//go:build !linux

package quick

import (
	"errors"
	"fmt"
	"runtime"
)

// A second platform goes here: its NewEnv wires its own implementations of
// Links, Routes and Policy (on a BSD, a routing socket; a full tunnel
// there is two /1 routes instead of Policy's rules), Device, Firewall,
// DNS and Userspace, in a file named for it (system_freebsd.go), as
// system_linux.go does for Linux. Nothing above the interfaces in env.go
// changes.

// NewEnv fails: wg-quick drives Linux only.
func NewEnv(o Options) (env *Env, close func(), err error) {
	return nil, nil, fmt.Errorf("wg-quick on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// NewCheckEnv asks nothing of the system: check then says nothing about
// tables, DNS tools or the firewall.
func NewCheckEnv(o Options) (env CheckEnv, close func()) { return CheckEnv{}, func() {} }
