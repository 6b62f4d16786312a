// Package quick is wg-quick's orchestrator: it turns a parsed configuration
// into the ordered changes `wg-quick up` makes (link, PreUp, device
// configuration, addresses, MTU and link up, DNS, routes with the full-tunnel
// policy rules and firewall, PostUp), prints each as the ip/wg/nft/resolvconf
// command it stands for (`[#] …` on stderr, as wg-quick's cmd() does), and
// applies it through narrow interfaces to the system packages.
//
// Every change that outlives the link (policy rules, firewall tables, DNS
// records, the src_valid_mark sysctl) is recorded in a journal under
// /run/wgtools (a subdirectory per network namespace, see
// [NamespaceStateDir]) before the next step runs. A failure or an interrupt during
// `up` undoes the journal in reverse, so the host is left as it was; `down`
// undoes exactly what `up` recorded, even if the file changed meanwhile, and
// so removes only the rules this interface added (the reference deletes every
// `suppress_prefixlength 0` rule, breaking a second full tunnel). Concurrent
// up/down of one interface are serialised by a lock file next to the journal.
//
// The journal also holds the configuration in force ([Applied]: the file's
// settings as the device merges them, secrets kept as fingerprints, plus
// the fwmark and routes up chose). `reload` compares a new file with it and
// makes only the differences, as steps that each know their inverse, so a
// failure rolls back to the previous state exactly; `reresolve` refreshes
// the endpoints of peers behind host names whose handshakes went stale.
package quick
