package route

import "testing"

func TestRuleString(t *testing.T) {
	tests := []struct {
		name string
		in   Rule
		want string
	}{
		{
			name: "wg-quick fwmark rule",
			in:   Rule{Family: 4, Table: 51820, Mark: 51820, Invert: true, SuppressPrefixlen: -1},
			want: "not fwmark 51820 table 51820",
		},
		{
			name: "wg-quick suppress rule",
			in:   Rule{Family: 6, Table: TableMain, SuppressPrefixlen: 0},
			want: "table main suppress_prefixlength 0",
		},
		{
			name: "table 0 is main",
			in:   NewRule(4, 0),
			want: "table main",
		},
		{
			name: "priority first",
			in:   Rule{Family: 4, Priority: 100, Table: 7, SuppressPrefixlen: -1},
			want: "priority 100 table 7",
		},
		{
			name: "named tables",
			in:   Rule{Family: 4, Table: TableLocal, Mark: 1, SuppressPrefixlen: -2},
			want: "fwmark 1 table local",
		},
		{
			name: "invert alone",
			in:   Rule{Family: 4, Table: TableDefault, Invert: true, SuppressPrefixlen: -1},
			want: "not table default",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRuleMatches(t *testing.T) {
	fwmark := Rule{Family: 4, Table: 51820, Mark: 51820, Invert: true, SuppressPrefixlen: -1}
	atPrio := fwmark
	atPrio.Priority = 32765
	tests := []struct {
		name      string
		want, got Rule
		match     bool
	}{
		{"same", fwmark, atPrio, true},
		{"priority given and equal", atPrio, atPrio, true},
		{"priority given and different", Rule{Family: 4, Priority: 1, Table: 51820, Mark: 51820, Invert: true, SuppressPrefixlen: -1}, atPrio, false},
		{"other family", Rule{Family: 6, Table: 51820, Mark: 51820, Invert: true, SuppressPrefixlen: -1}, atPrio, false},
		{"not inverted", Rule{Family: 4, Table: 51820, Mark: 51820, SuppressPrefixlen: -1}, atPrio, false},
		{"zero value suppresses /0", Rule{Family: 4, Table: 51820, Mark: 51820, Invert: true}, atPrio, false},
		{"table 0 is main", Rule{Family: 4, SuppressPrefixlen: 0}, Rule{Family: 4, Priority: 32764, Table: TableMain, SuppressPrefixlen: 0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.want.normalized().matches(tt.got.normalized()); got != tt.match {
				t.Errorf("%+v matches %+v = %v, want %v", tt.want, tt.got, got, tt.match)
			}
		})
	}
}
