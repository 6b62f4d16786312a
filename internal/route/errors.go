package route

import "errors"

var (
	// ErrExists reports that the link, address, route or rule to be added
	// already exists (EEXIST, which ip prints as "File exists").
	ErrExists = errors.New("already exists")

	// ErrLinkTypeUnsupported reports that the kernel cannot create links of
	// the wireguard type: RTM_NEWLINK failed with EOPNOTSUPP, which ip prints
	// as "Unknown device type". wg-quick then falls back to a userspace
	// implementation.
	ErrLinkTypeUnsupported = errors.New("link type not supported by the kernel")
)

// kernelError is an error from the kernel that callers may branch on through
// a sentinel as well as through the errno itself: errors.Is matches both.
type kernelError struct {
	sentinel error // ErrExists, ErrLinkTypeUnsupported or fs.ErrNotExist
	err      error // what the kernel or the library returned
}

func (e *kernelError) Error() string   { return e.err.Error() }
func (e *kernelError) Unwrap() []error { return []error{e.sentinel, e.err} }
