package route

import (
	"fmt"
	"strings"
)

// Rule is a routing policy rule of the kind wg-quick adds: an optional
// (possibly inverted) fwmark selector, a lookup in a table, and an optional
// suppress_prefixlength. The two rules of wg-quick's default-route setup are
//
//	Rule{Family: 4, Table: 51820, Mark: 51820, Invert: true, SuppressPrefixlen: -1}
//	Rule{Family: 4, Table: TableMain, SuppressPrefixlen: 0}
//
// Mind that the zero SuppressPrefixlen is a real suppress_prefixlength 0;
// [NewRule] starts from -1.
type Rule struct {
	// Family is 4 or 6, like ip's -4 and -6.
	Family int
	// Priority is the rule's preference. 0 (or less) leaves it to the
	// kernel, which takes one less than the second rule's (the first after
	// "lookup local"), as for "ip rule add" without "priority".
	Priority int
	// Table is the table the rule looks up; 0 means main.
	Table int
	// Mark is the fwmark selector; 0 means none. The mask is always
	// 0xffffffff (ip's "fwmark MARK" without "/MASK").
	Mark uint32
	// Invert negates the selectors, as ip's "not".
	Invert bool
	// SuppressPrefixlen is the suppress_prefixlength; -1 means none.
	SuppressPrefixlen int
}

// NewRule returns the rule "table TABLE" for family 4 or 6, with no
// priority, no selector and no suppress_prefixlength.
func NewRule(family, table int) Rule {
	return Rule{Family: family, Table: table, SuppressPrefixlen: -1}
}

// String returns the rule as the arguments of "ip -4|-6 rule add", spelled
// as wg-quick spells them: "not fwmark 51820 table 51820" and
// "table main suppress_prefixlength 0". A priority is printed first when
// set. The family is not part of the string; it is ip's -4 or -6 option.
func (r Rule) String() string {
	var b strings.Builder
	if r.Priority > 0 {
		fmt.Fprintf(&b, "priority %d ", r.Priority)
	}
	if r.Invert {
		b.WriteString("not ")
	}
	if r.Mark != 0 {
		fmt.Fprintf(&b, "fwmark %d ", r.Mark)
	}
	fmt.Fprintf(&b, "table %s", tableString(r.Table))
	if r.SuppressPrefixlen >= 0 {
		fmt.Fprintf(&b, " suppress_prefixlength %d", r.SuppressPrefixlen)
	}
	return b.String()
}

// normalized returns r with the defaults spelled out: table 0 as main, a
// negative priority as 0 and any negative SuppressPrefixlen as -1, so that
// rules compare equal when ip would treat them alike.
func (r Rule) normalized() Rule {
	if r.Table == 0 {
		r.Table = TableMain
	}
	if r.Priority < 0 {
		r.Priority = 0
	}
	if r.SuppressPrefixlen < 0 {
		r.SuppressPrefixlen = -1
	}
	return r
}

// matches reports whether the kernel's rule got is the rule r asks for:
// the same family, table, mark, inversion and suppress_prefixlength, and the
// same priority if r has one. Both must be normalized.
func (r Rule) matches(got Rule) bool {
	return r.Family == got.Family &&
		r.Table == got.Table &&
		r.Mark == got.Mark &&
		r.Invert == got.Invert &&
		r.SuppressPrefixlen == got.SuppressPrefixlen &&
		(r.Priority == 0 || r.Priority == got.Priority)
}
