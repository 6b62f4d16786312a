package firewall

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// NFT installs and removes wg-quick's nftables tables over netlink. Each
// operation opens its own netlink socket in the namespace NFT was created
// for. An NFT is safe for use by one goroutine at a time.
type NFT struct {
	nsFD int // duplicate of the namespace fd passed to NewNFT, or 0
}

// NewNFT returns an NFT working in the network namespace referred to by the
// file descriptor nsFD (such as an int conversion of a
// vishvananda/netns.NsHandle). nsFD 0, or a negative one such as
// netns.None(), means the namespace of the thread calling each method. NFT
// keeps a duplicate of nsFD, so the caller may close its own; release it
// with Close.
func NewNFT(nsFD int) (*NFT, error) {
	if nsFD <= 0 {
		return &NFT{}, nil
	}
	fd, err := unix.FcntlInt(uintptr(nsFD), unix.F_DUPFD_CLOEXEC, 1)
	if err != nil {
		return nil, fmt.Errorf("duplicating network namespace fd %d: %w", nsFD, err)
	}
	return &NFT{nsFD: fd}, nil
}

// Close releases the namespace file descriptor n holds.
func (n *NFT) Close() error {
	if n.nsFD <= 0 {
		return nil
	}
	fd := n.nsFD
	n.nsFD = 0
	if err := unix.Close(fd); err != nil {
		return fmt.Errorf("closing network namespace fd: %w", err)
	}
	return nil
}

// conn returns a netlink connection in n's namespace.
func (n *NFT) conn() (*nftables.Conn, error) {
	var opts []nftables.ConnOption
	if n.nsFD > 0 {
		opts = append(opts, nftables.WithNetNSFd(n.nsFD))
	}
	c, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("opening nftables netlink connection: %w", err)
	}
	return c, nil
}

// tableFamily maps 4 and 6 to nftables' ip and ip6 families.
func tableFamily(family int) (nftables.TableFamily, error) {
	switch family {
	case 4:
		return nftables.TableFamilyIPv4, nil
	case 6:
		return nftables.TableFamilyIPv6, nil
	}
	return 0, fmt.Errorf("invalid address family %d: want 4 or 6", family)
}

// Apply installs the table wg-quick-IF of r's family with the chains and
// rules [NFTScript] creates, in one atomic transaction.
//
// Apply replaces a table of that name and family if one exists, in the same
// transaction, so applying the same Rules twice leaves what applying them
// once does, and applying new Rules (say, after the interface's addresses
// changed) leaves no stale rule. This differs on purpose from the reference
// script, which appends duplicate rules to an existing table; wg-quick only
// meets an existing table when an earlier run died before removing it.
func (n *NFT) Apply(r Rules) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("applying firewall rules: %w", err)
	}
	fam, _ := tableFamily(r.Family)
	c, err := n.conn()
	if err != nil {
		return err
	}
	t := &nftables.Table{Name: TableName(r.Interface), Family: fam}
	// Add (a no-op if it exists), delete, then create: the usual way to
	// replace a table atomically, as "nft -f" files do with
	// "table x; delete table x; table x { ... }".
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	chain := func(name string, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
		return c.AddChain(&nftables.Chain{
			Name: name, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: hook, Priority: prio,
		})
	}
	// Created in the script's order, which is the order nft lists them in.
	preraw := chain("preraw", nftables.ChainHookPrerouting, nftables.ChainPriorityRaw)
	premangle := chain("premangle", nftables.ChainHookPrerouting, nftables.ChainPriorityMangle)
	postmangle := chain("postmangle", nftables.ChainHookPostrouting, nftables.ChainPriorityMangle)
	for _, a := range r.Addrs {
		c.AddRule(&nftables.Rule{Table: t, Chain: preraw, Exprs: antiSpoofExprs(r.Interface, a)})
	}
	c.AddRule(&nftables.Rule{Table: t, Chain: postmangle, Exprs: saveMarkExprs(r.Mark)})
	c.AddRule(&nftables.Rule{Table: t, Chain: premangle, Exprs: restoreMarkExprs()})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("adding nftables table %s %s: %w", r.pf(), t.Name, err)
	}
	return nil
}

// ifname returns name as nft compares interface names: NUL-padded to
// IFNAMSIZ bytes.
func ifname(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}

// antiSpoofExprs is the bytecode nft generates for
// `iifname != "IF" PF daddr ADDR fib saddr type != local drop`, as
// "nft --debug=netlink" shows it:
//
//	[ meta load iifname => reg 1 ]
//	[ cmp neq reg 1 "IF" padded to 16 bytes ]
//	[ payload load 4b @ network header + 16 => reg 1 ]   (IPv6: 16b @ + 24)
//	[ cmp eq reg 1 ADDR ]
//	[ fib saddr type => reg 1 ]
//	[ cmp neq reg 1 RTN_LOCAL ]
//	[ immediate reg 0 drop ]
func antiSpoofExprs(iface string, a netip.Addr) []expr.Any {
	// Offset and length of the destination address in the IPv4 and IPv6
	// headers.
	offset, addr := uint32(16), a.AsSlice()
	if a.Is6() {
		offset = 24
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname(iface)},
		&expr.Payload{
			OperationType: expr.PayloadLoad, DestRegister: 1,
			Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: uint32(len(addr)),
		},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: addr},
		// The fib result is an RTN_* route type in host byte order.
		&expr.Fib{Register: 1, FlagSADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}
}

// udpExprs matches `meta l4proto udp`.
func udpExprs() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_UDP}},
	}
}

// saveMarkExprs is the bytecode of `meta l4proto udp mark T ct mark set
// mark`: the packet mark (host byte order) is compared with T, loaded again
// and stored in the conntrack mark.
func saveMarkExprs(mark uint32) []expr.Any {
	return append(udpExprs(),
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(mark)},
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Ct{Key: expr.CtKeyMARK, Register: 1, SourceRegister: true},
	)
}

// restoreMarkExprs is the bytecode of `meta l4proto udp meta mark set ct
// mark`: the conntrack mark is loaded and stored in the packet mark.
func restoreMarkExprs() []expr.Any {
	return append(udpExprs(),
		&expr.Ct{Key: expr.CtKeyMARK, Register: 1},
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1, SourceRegister: true},
	)
}

// tables returns the tables named wg-quick-IF, in any family.
func tables(c *nftables.Conn, iface string) ([]*nftables.Table, error) {
	all, err := c.ListTables()
	if err != nil {
		return nil, fmt.Errorf("listing nftables tables: %w", err)
	}
	var ts []*nftables.Table
	for _, t := range all {
		if t.Name == TableName(iface) {
			ts = append(ts, t)
		}
	}
	return ts, nil
}

// Remove deletes the tables named wg-quick-IF, in every family (as wg-quick
// does, which deletes every table "nft list tables" shows with that name), in
// one transaction. That there is none is not an error.
func (n *NFT) Remove(iface string) error {
	c, err := n.conn()
	if err != nil {
		return err
	}
	// A table another process deletes between the listing and the
	// deletion makes the whole transaction fail with ENOENT; list again.
	for range 3 {
		ts, err := tables(c, iface)
		if err != nil || len(ts) == 0 {
			return err
		}
		for _, t := range ts {
			c.DelTable(t)
		}
		err = c.Flush()
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("deleting nftables table %s: %w", TableName(iface), err)
		}
	}
	return fmt.Errorf("deleting nftables table %s: tables keep disappearing", TableName(iface))
}

// Available reports whether the kernel answers nftables requests in n's
// namespace (it has nf_tables), by listing its tables.
func (n *NFT) Available() error {
	c, err := n.conn()
	if err != nil {
		return err
	}
	if _, err := c.ListTables(); err != nil {
		return fmt.Errorf("listing nftables tables: %w", err)
	}
	return nil
}

// Exists reports whether the table wg-quick-IF exists in the ip (family 4)
// or ip6 (family 6) family.
func (n *NFT) Exists(iface string, family int) (bool, error) {
	fam, err := tableFamily(family)
	if err != nil {
		return false, err
	}
	c, err := n.conn()
	if err != nil {
		return false, err
	}
	ts, err := tables(c, iface)
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		if t.Family == fam {
			return true, nil
		}
	}
	return false, nil
}
