// Package quick is wg-quick's orchestrator: it turns a parsed configuration
// into the ordered changes `wg-quick up` makes (link, PreUp, device
// configuration, addresses, MTU and link up, DNS, routes with the full-tunnel
// policy rules and firewall, PostUp), prints each as the ip/wg/nft/resolvconf
// command it stands for (`[#] …` on stderr, as wg-quick's cmd() does), and
// applies it through narrow interfaces to the system packages.
//
// # One engine
//
// Every verb that changes an interface runs one transaction engine
// ([txn], txn.go). `up` is a transaction from the empty state; `reload` is
// one from the configuration in force. A phase per concern plans the steps
// that take it from the model's state to the file's, and each step returns
// the actions that revert it:
//
//	steps_link.go    the link (up only), addresses, MTU and link up
//	steps_device.go  the device: `wg addconf` for up, the changed peers for reload
//	steps_dns.go     DNS
//	steps_routes.go  routes, longest prefix first, and what reload tears down
//	fulltunnel.go    a /0's fwmark table, policy rules, src_valid_mark, firewall
//
// A failure or an interrupt reverts the steps made, last first; after an
// up, what dies with the link (addresses, routes, peers) is not reverted
// one by one but with the link. Every change that outlives the link
// (policy rules, firewall tables, DNS records, the src_valid_mark sysctl)
// is recorded in a journal under /run/wgtools (journal.go; a subdirectory
// per network namespace, see [NamespaceStateDir]) before it is made, so a
// process killed at any point leaves a journal from which the next `down`
// or `up` removes it. `down` (down.go) undoes exactly what the journal
// records, even if the file changed meanwhile, and so removes only the
// rules this interface added (the reference deletes every
// `suppress_prefixlength 0` rule, breaking a second full tunnel).
// Concurrent commands on one interface are serialised by a lock file next
// to the journal (lock.go).
//
// The journal also holds the configuration in force ([Applied],
// applied.go: the file's settings as the device merges them, secrets kept
// as fingerprints, plus the fwmark and routes up chose). `reload` compares
// a new file with it and makes only the differences, so untouched peers
// keep their sessions; `save` (save.go) writes the file from the live
// interface; `reresolve` refreshes the endpoints of peers behind host
// names whose handshakes went stale.
//
// # The system
//
// The engine reaches the system only through the interfaces in env.go:
// [Links], [Routes] and [Policy] (Linux's policy rules and src_valid_mark),
// [Device], [Firewall], [Userspace], and the DNS and hook runners. The one
// file that names their Linux implementations is system_linux.go
// ([NewEnv]); a second platform would be a file beside it
// (system_other.go says what it would hold), not edits above the
// interfaces.
//
// # Adding a configuration key
//
//  1. internal/config: parse it into [config.Interface] or [config.Peer]
//     and write it back in config.Save (and showconf, if wg knows it).
//  2. applied.go: add it to [Applied] and fill it in newApplied, so that
//     reload sees it change.
//  3. The phase file of its concern: plan its step from t.old and t.next;
//     up, reload, rollback and dry runs all use that one step. A change
//     that outlives the link records an [Undo] (a new [UndoKind] in
//     journal.go, undone in down.go's undo).
//  4. save.go: only if the system, not the file, holds its value.
package quick
