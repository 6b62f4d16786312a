//go:build !linux

package device

// prefault does nothing: the pages of a block fault in as it is filled.
func prefault[T any]([]T) {}
