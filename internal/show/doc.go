// Package show renders WireGuard devices the way wg(8)'s "show" subcommand
// prints them, byte for byte (reference: wireguard-tools v1.0.20260223,
// src/show.c and src/terminal.c).
//
// There are three forms:
//
//   - [Pretty], the human-readable block printed by "wg show IF" and "wg",
//     with relative handshake times, binary byte units, optional ANSI colour
//     and optional key hiding;
//   - [Field], the tab-separated script output of "wg show IF FIELD",
//     including "dump", optionally prefixed with the interface name as
//     "wg show all FIELD" does;
//   - [Interfaces], the one-line list printed by "wg show interfaces".
//
// The package is pure: it reads no environment variables and no clock. The
// caller decides colour (WG_COLOR_MODE, isatty), key hiding (WG_HIDE_KEYS)
// and the current time, and passes them in [Options].
//
// # Input conventions
//
// Devices arrive as [wgtypes.Device] values, which cannot say "absent" for
// every field the way wg's C structures do, so these conventions apply:
//
//   - an all-zero PrivateKey means the device has no private key (and hence
//     no public key); an all-zero PresharedKey means no preshared key;
//   - a nil Endpoint, or one whose IP is neither 4 nor 16 bytes long, means
//     no endpoint. A 4-byte IP is an IPv4 endpoint, a 16-byte IP an IPv6
//     one, even when it is IPv4-mapped: wg prints such an AF_INET6 endpoint
//     as [::ffff:a.b.c.d]:port. The device layer must therefore hand over
//     IPv4 endpoints as 4-byte IPs;
//   - an allowed IP's family is decided by its mask length (4 bytes: IPv4,
//     16 bytes: IPv6), because IPv4 addresses may arrive in 16-byte form;
//   - a zero LastHandshakeTime, or the Unix epoch exactly, means the peer
//     never completed a handshake;
//   - counters are reinterpreted as the unsigned 64-bit values the kernel
//     and UAPI report, the listen port and keepalive interval as 16-bit and
//     the firewall mark as 32-bit values, as in wg's C structures;
//   - the interface name is cut at the first NUL byte and to 15 bytes
//     (IFNAMSIZ-1), because wg copies it into a fixed-size buffer before
//     printing it.
//
// Addresses are formatted like glibc's inet_ntop, which differs from
// [net/netip] only for IPv4-compatible IPv6 addresses (::a.b.c.d), and
// endpoints like getnameinfo with numeric host and service.
package show
