// Package userspace embeds a userspace WireGuard device, built on the
// wireguard-go library (golang.zx2c4.com/wireguard: only its device, tun,
// conn and ipc packages), for machines whose kernel has no WireGuard module.
//
// This package is the only owner of the wireguard-go import.
//
// # The device
//
// [Run] creates a TUN interface, attaches a wireguard-go device to it and
// serves the UAPI socket /var/run/wireguard/<name>.sock exactly as the
// wireguard-go program does, so the reference wg(8), wgctrl and this
// project's wg all configure it as they configure a wireguard-go interface.
// The socket directory is fixed: the ipc package hard-codes it, and wg(8)
// looks nowhere else.
//
// The TUN device uses the library's offloads: tun.CreateTUN opens it with
// IFF_VNET_HDR and turns on checksum, TSO4/TSO6 and, on Linux 6.2 and later,
// USO4/USO6 segmentation offloads (TUNSETOFFLOAD), so the device reads and
// writes up to 64 KiB super-packets and coalesces (GRO) what it writes back
// to the kernel. The UDP sockets of conn.NewDefaultBind use UDP GSO
// (UDP_SEGMENT) and UDP GRO where the kernel offers them. The
// device works in batches of conn.IdealBatchSize packets.
//
// Run stops when its context is cancelled (the caller maps SIGTERM and
// SIGINT onto the context), when the device closes itself because its TUN
// interface went away ("ip link del"), or when its UAPI socket file is
// removed (as wireguard-go does). It then closes the device, which removes
// the interface, and removes the socket.
//
// # The link's state, wherever the link is
//
// The device comes up when its link runs (IFF_RUNNING) and goes down when
// it stops, as the kernel's WireGuard does. The library's own view of the
// link is wrong twice (see linkTUN): it watches only the namespace the
// device was created in, so a link moved to another namespace (the
// container setup of wireguard.com/netns) never came up, and its probe
// calls a new, down link up. So the package asks the kernel which
// namespace the link is in (TUNGETDEVNETNS), follows the link's rtnetlink
// messages there, link state and MTU, and follows it again when it moves.
//
// # Stale sockets and name clashes
//
// A daemon killed with SIGKILL leaves its socket file behind; its TUN
// interface disappears with the process. Before it creates anything, Run
// removes a socket nobody listens on (connecting is refused) and fails with
// an error wrapping [io/fs.ErrExist] if the socket is live or the interface name
// is taken. Processes of this package starting devices serialize that
// check-and-create step on an advisory lock (flock(2)) of the socket
// directory itself, so of two concurrent Run calls for the same name exactly
// one succeeds, whichever network namespaces they run in.
//
// # Daemons
//
// [Spawn] starts a program (normally the running executable, re-executed
// with a hidden subcommand) as a detached daemon in its own session and
// waits until it reports that its device is ready, or that it failed. The
// program does its part with [Daemon], or with [ReadyFromEnv] and [Run]. The
// two talk through an inherited pipe whose descriptor number is in the
// environment variable named by [ReadyFDEnv]. Until the daemon is ready,
// Spawn also collects what it writes to stderr (usage errors, panics), and
// reports it if the daemon fails to start.
//
// A detached daemon has no terminal: its stdin, stdout and stderr are
// /dev/null once it is ready. [Daemon] therefore logs to syslog, with the
// tag "wgtools-<name>", when syslog is available (a socket such as /dev/log),
// and discards log messages otherwise. In the foreground, the caller's
// Options.Logf (normally writing to stderr) receives them.
//
// On systems other than Linux, Run, Spawn and Daemon return errors wrapping
// [errors.ErrUnsupported].
package userspace
