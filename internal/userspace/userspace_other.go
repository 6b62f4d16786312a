//go:build !linux

package userspace

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errUnsupported is what this package returns on systems other than Linux.
var errUnsupported = fmt.Errorf("embedded userspace WireGuard device: %w", errors.ErrUnsupported)

// Run returns an error wrapping [errors.ErrUnsupported]: the embedded
// device supports only Linux.
func Run(ctx context.Context, name string, opts Options, ready func()) error {
	return errUnsupported
}

// Spawn returns an error wrapping [errors.ErrUnsupported]: the embedded
// device supports only Linux.
func Spawn(exe string, args []string, name string, env []string, timeout time.Duration) (pid int, err error) {
	return 0, errUnsupported
}

// ReadyFromEnv returns functions that do nothing: there is no [Spawn]
// outside Linux.
func ReadyFromEnv() (ready func(), fail func(error)) {
	return func() {}, func(error) {}
}

// Daemon returns an error wrapping [errors.ErrUnsupported]: the embedded
// device supports only Linux.
func Daemon(ctx context.Context, name string, opts Options) error {
	return errUnsupported
}

// Harden is Linux-only.
func Harden() error { return errUnsupported }

var errCapsPerThread = errUnsupported
