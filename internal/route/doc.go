// Package route does wg-quick(8)'s rtnetlink work in-process, where the
// reference script runs ip(8): it creates and deletes the wireguard link,
// sets its MTU and brings it up, adds addresses, adds and deletes routes in a
// table, adds, lists and deletes the policy rules of the default-route setup,
// looks up the route to an endpoint for MTU detection, resolves routing table
// names as ip does, and reads and writes sysctls under /proc/sys.
//
// It is the only package that imports github.com/vishvananda/netlink. Every
// request goes through a netlink handle bound to one network namespace when
// the [Manager] is created ([New] for the caller's namespace, [NewAt] for
// another one), so tests can work in a throwaway namespace without switching
// their own thread. Addresses and prefixes are net/netip values; they are
// converted to net.IPNet only inside this package, at the netlink call.
//
// # Matching ip(8)
//
// Each operation sends what the ip command it replaces sends, which is not
// always what the netlink library does by default:
//
//   - [Manager.AddRoute] adds routes with protocol boot and scope link, as
//     "ip route add P dev IF" does for a device route; [Manager.DeleteRoute]
//     deletes with scope "nowhere" (any scope), as "ip route del" does.
//   - [Manager.AddAddress] sends no broadcast address (the library would
//     compute one for IPv4), scope host for 127.0.0.0/8 like ip, and no
//     address flags: in particular IPv6 addresses get duplicate address
//     detection, because ip does not set nodad.
//   - [Manager.AddRule] leaves the priority unset unless one is given, so the
//     kernel picks the one below the first non-zero rule as for "ip rule add";
//     the library's zero Rule would ask for priority 0, goto 0 and
//     suppress_ifgroup 0.
//   - [Manager.AddWireGuardLink] sends no TXQLEN (the library's zero LinkAttrs
//     would set the queue length to 0).
//
// Errors wrap the kernel's errno. EEXIST is also [ErrExists]; a missing link,
// route or rule is also [io/fs.ErrNotExist]; a missing wireguard link type is
// [ErrLinkTypeUnsupported].
//
// On systems other than Linux, [New] and [NewAt] return an error wrapping
// [errors.ErrUnsupported]; [Manager.TableID] and the sysctl methods, which
// only read and write files, work everywhere.
package route
