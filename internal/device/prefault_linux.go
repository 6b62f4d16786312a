package device

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// prefault maps the pages of a block just allocated for a device read in
// one system call (MADV_POPULATE_WRITE, Linux 5.14), instead of one page
// fault for each page as the block is filled. A fresh Go heap page costs
// a fault on first write, and faults are what a large read spends most in:
// in the VMs this is measured on, a third of `wg show` at 10,000 peers
// (perf); populating the blocks at once took that command from 1.14x to
// 1.06x the C tool's time (bench/README.md). Only whole pages inside the
// block are populated, so no memory outside it is touched. Older kernels
// refuse the advice, and the pages then fault as before.
func prefault[T any](block []T) {
	if cap(block) == 0 {
		return
	}
	const page = 4096
	base := unsafe.Pointer(unsafe.SliceData(block))
	start := uintptr(base)
	end := start + uintptr(cap(block))*unsafe.Sizeof(block[:1][0])
	lo, hi := (start+page-1)&^(page-1), end&^(page-1)
	if hi <= lo {
		return
	}
	_ = unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(base, lo-start)), hi-lo), unix.MADV_POPULATE_WRITE)
}
