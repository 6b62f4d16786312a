// Package firewall builds and installs the netfilter rules wg-quick(8) adds
// when a peer's AllowedIPs contain a default route (0.0.0.0/0 or ::/0) and
// Table is auto, and removes them again on down.
//
// The rules, for one address family, are (linux.bash add_default):
//
//   - in the raw-priority prerouting chain, one rule per address of the
//     interface that drops packets addressed to it which arrive on any other
//     interface and whose source is not local, so that nobody on the LAN can
//     inject traffic that looks as if it came through the tunnel;
//   - in the mangle-priority postrouting chain, a rule copying the packet
//     mark into the connection mark for UDP packets carrying the tunnel's
//     fwmark (the encrypted packets the WireGuard socket sends);
//   - in the mangle-priority prerouting chain, a rule restoring the packet
//     mark from the connection mark for incoming UDP, so that replies to the
//     WireGuard socket are routed by the main table and pass rp_filter
//     (with net.ipv4.conf.all.src_valid_mark=1).
//
// wg-quick installs them with nft(8) in a table named wg-quick-IF per family
// or, without nft, with iptables-restore(8) in the raw and mangle tables,
// every rule tagged with the comment "wg-quick(8) rule for IF". [NFTScript]
// and [IptablesRestore] render exactly the input wg-quick feeds those
// programs; [NFTDelete] and [IptablesDelete] render its removal input.
//
// [NFT] installs the same nftables rules natively over netlink, so no nft
// binary is needed. The tests prove that what it installs is what nft
// installs from [NFTScript], by comparing the kernel's rulesets.
// [Iptables] is the fallback for kernels without nf_tables: it runs
// iptables-restore with [IptablesRestore]'s input, as wg-quick does without
// nft, and removes by [IptablesDelete]. [Auto] picks one (nftables when the
// kernel answers, WG_QUICK_FIREWALL to force) and removes with the backend
// the journal says installed the rules.
package firewall
