package userspace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/wgtools/wgtools/internal/nettest"
	"golang.org/x/sys/unix"
)

// ethSSFeatures is ETH_SS_FEATURES, the string set of feature names.
const ethSSFeatures = 4

// ethGStringLen is ETH_GSTRING_LEN.
const ethGStringLen = 32

// ifreqData is struct ifreq with ifr_data, for SIOCETHTOOL.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(uintptr(0))]byte
}

// ethtoolFeatures returns the active state of the features of interface
// name in ns by their ethtool names ("tx-tcp-segmentation"), as
// "ethtool -k" shows them; ethtool(8) need not be installed.
func ethtoolFeatures(ns *nettest.NetNS, name string) (map[string]bool, error) {
	features := make(map[string]bool)
	err := ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		ethtool := func(buf []byte) error {
			var ifr ifreqData
			copy(ifr.name[:], name)
			ifr.data = unsafe.Pointer(&buf[0])
			_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
			if errno != 0 {
				return fmt.Errorf("SIOCETHTOOL %#x on %s: %w", binary.NativeEndian.Uint32(buf), name, errno)
			}
			return nil
		}
		u32 := binary.NativeEndian.Uint32
		put32 := binary.NativeEndian.PutUint32

		// struct ethtool_sset_info: cmd, reserved, sset_mask (u64), data[].
		info := make([]byte, 20)
		put32(info[0:], unix.ETHTOOL_GSSET_INFO)
		binary.NativeEndian.PutUint64(info[8:], 1<<ethSSFeatures)
		if err := ethtool(info); err != nil {
			return err
		}
		n := int(u32(info[16:]))
		if n == 0 {
			return errors.New("no feature names")
		}

		// struct ethtool_gstrings: cmd, string_set, len, data[len*32].
		names := make([]byte, 12+n*ethGStringLen)
		put32(names[0:], unix.ETHTOOL_GSTRINGS)
		put32(names[4:], ethSSFeatures)
		put32(names[8:], uint32(n))
		if err := ethtool(names); err != nil {
			return err
		}

		// struct ethtool_gfeatures: cmd, size, then size blocks of
		// available, requested, active, never_changed.
		blocks := (n + 31) / 32
		feats := make([]byte, 8+blocks*16)
		put32(feats[0:], unix.ETHTOOL_GFEATURES)
		put32(feats[4:], uint32(blocks))
		if err := ethtool(feats); err != nil {
			return err
		}
		for i := range n {
			s := names[12+i*ethGStringLen : 12+(i+1)*ethGStringLen]
			active := u32(feats[8+(i/32)*16+8:])
			features[unix.ByteSliceToString(s)] = active&(1<<(i%32)) != 0
		}
		return nil
	})
	return features, err
}

// udpSocket describes a UDP socket of another process.
type udpSocket struct {
	fd     int  // descriptor number in the process
	family int  // AF_INET or AF_INET6
	gro    bool // UDP_GRO is on
	gso    bool // UDP_SEGMENT can be used (getsockopt succeeds)
}

// udpSockets inspects the UDP sockets of process pid, copying each of its
// socket descriptors with pidfd_getfd(2).
func udpSockets(pid int) ([]udpSocket, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("pidfd_open(%d): %w", pid, err)
	}
	defer unix.Close(pidfd)
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var socks []udpSocket
	for _, e := range entries {
		target, err := os.Readlink(dir + "/" + e.Name())
		if err != nil || !strings.HasPrefix(target, "socket:") {
			continue // closed meanwhile, or no socket
		}
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fd, err := unix.PidfdGetfd(pidfd, n, 0)
		if err != nil {
			if errors.Is(err, unix.EBADF) {
				continue // closed meanwhile
			}
			return nil, fmt.Errorf("pidfd_getfd(%d, %d): %w", pid, n, err)
		}
		s, isUDP, err := inspectUDP(fd)
		unix.Close(fd)
		if err != nil {
			return nil, fmt.Errorf("fd %d of %d: %w", n, pid, err)
		}
		if isUDP {
			s.fd = n
			socks = append(socks, s)
		}
	}
	return socks, nil
}

// inspectUDP reports whether fd is a UDP socket and, if so, its offloads.
func inspectUDP(fd int) (s udpSocket, isUDP bool, err error) {
	proto, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	if err != nil || proto != unix.IPPROTO_UDP {
		return s, false, nil
	}
	if s.family, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN); err != nil {
		return s, true, fmt.Errorf("SO_DOMAIN: %w", err)
	}
	gro, err := unix.GetsockoptInt(fd, unix.IPPROTO_UDP, unix.UDP_GRO)
	if err != nil {
		return s, true, fmt.Errorf("UDP_GRO: %w", err)
	}
	s.gro = gro == 1
	_, err = unix.GetsockoptInt(fd, unix.IPPROTO_UDP, unix.UDP_SEGMENT)
	s.gso = err == nil
	return s, true, nil
}
