package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// isTerminal is isatty(3): the terminal ioctl succeeds only on a tty.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
