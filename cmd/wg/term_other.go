//go:build !linux

package main

import "os"

// isTerminal reports false off Linux: wg's colours are a Linux nicety here.
func isTerminal(*os.File) bool { return false }
