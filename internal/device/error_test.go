package device

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

// TestErrorKeepsCause: a device error prints as wg prints it and still
// answers errors.Is for its errno through any wrapping.
func TestErrorKeepsCause(t *testing.T) {
	err := fmt.Errorf("configuring wg0: %w", Wrap(fmt.Errorf("set: %w", syscall.ENODEV)))
	if got, want := err.Error(), "configuring wg0: No such device"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if !errors.Is(err, syscall.ENODEV) {
		t.Errorf("errors.Is(%v, ENODEV) = false", err)
	}
	var de *Error
	if !errors.As(err, &de) {
		t.Errorf("errors.As(%v, *Error) = false", err)
	}
	if Wrap(nil) != nil {
		t.Error("Wrap(nil) != nil")
	}
}
