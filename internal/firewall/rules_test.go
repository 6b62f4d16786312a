package firewall

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenCases are the Rules whose NFTScript and IptablesRestore output is
// kept in testdata/NAME.nft.golden and testdata/NAME.iptables.golden. The
// golden files were checked byte for byte against the output of the
// reference linux.bash add_default (run with stubbed ip, wg and nft).
var goldenCases = []struct {
	name string
	r    Rules
}{
	{
		name: "ipv4-two-addrs",
		r: Rules{Interface: "wg0", Mark: 51820, Family: 4, Addrs: []netip.Addr{
			netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("192.168.77.1"),
		}},
	},
	{
		// The zone of the link-local address is not printed, as in
		// "ip -o addr" output.
		name: "ipv6-global-link-local",
		r: Rules{Interface: "wg0", Mark: 0xca6c, Family: 6, Addrs: []netip.Addr{
			netip.MustParseAddr("fd00:0:0::2"), netip.MustParseAddr("fe80::1%wg0"),
		}},
	},
	{
		name: "ipv6-mark-51821",
		r: Rules{Interface: "wg-home", Mark: 51821, Family: 6, Addrs: []netip.Addr{
			netip.MustParseAddr("2001:db8::1:0:0:1"),
		}},
	},
	{
		name: "ipv4-no-addrs-max-mark",
		r:    Rules{Interface: "wg.long_name-15", Mark: 0xffffffff, Family: 4},
	},
}

func TestGolden(t *testing.T) {
	for _, tt := range goldenCases {
		for _, out := range []struct {
			kind string
			text string
		}{
			{"nft", NFTScript(tt.r)},
			{"iptables", IptablesRestore(tt.r)},
		} {
			t.Run(tt.name+"/"+out.kind, func(t *testing.T) {
				if err := tt.r.Validate(); err != nil {
					t.Fatalf("golden case is invalid: %v", err)
				}
				path := filepath.Join("testdata", tt.name+"."+out.kind+".golden")
				if *update {
					if err := os.WriteFile(path, []byte(out.text), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("reading golden file (run with -update to create it): %v", err)
				}
				if diff := cmp.Diff(string(want), out.text); diff != "" {
					t.Errorf("unexpected %s (-want +got):\n%s", path, diff)
				}
			})
		}
	}
}

func TestValidate(t *testing.T) {
	v4 := netip.MustParseAddr("10.0.0.2")
	v6 := netip.MustParseAddr("fd00::2")
	tests := []struct {
		name    string
		r       Rules
		wantErr bool
	}{
		{name: "ipv4", r: Rules{Interface: "wg0", Mark: 51820, Family: 4, Addrs: []netip.Addr{v4}}},
		{name: "ipv6", r: Rules{Interface: "wg0", Mark: 51820, Family: 6, Addrs: []netip.Addr{v6}}},
		{name: "no addresses", r: Rules{Interface: "wg0", Mark: 1, Family: 4}},
		{name: "all name characters", r: Rules{Interface: "aZ0_=+.-", Mark: 1, Family: 4}},
		{name: "empty name", r: Rules{Mark: 1, Family: 4}, wantErr: true},
		{name: "long name", r: Rules{Interface: "abcdefghijklmnop", Mark: 1, Family: 4}, wantErr: true},
		{name: "quote in name", r: Rules{Interface: `wg"0`, Mark: 1, Family: 4}, wantErr: true},
		{name: "space in name", r: Rules{Interface: "wg 0", Mark: 1, Family: 4}, wantErr: true},
		{name: "family 0", r: Rules{Interface: "wg0", Mark: 1}, wantErr: true},
		{name: "family 10", r: Rules{Interface: "wg0", Mark: 1, Family: 10}, wantErr: true},
		{name: "mark 0", r: Rules{Interface: "wg0", Family: 4}, wantErr: true},
		{name: "ipv6 address in ipv4", r: Rules{Interface: "wg0", Mark: 1, Family: 4, Addrs: []netip.Addr{v6}}, wantErr: true},
		{name: "ipv4 address in ipv6", r: Rules{Interface: "wg0", Mark: 1, Family: 6, Addrs: []netip.Addr{v4}}, wantErr: true},
		{name: "zero address", r: Rules{Interface: "wg0", Mark: 1, Family: 4, Addrs: []netip.Addr{{}}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}

func TestNFTDelete(t *testing.T) {
	tests := []struct {
		name   string
		tables string
		iface  string
		want   string
	}{
		{name: "none", tables: "", iface: "wg0", want: ""},
		{
			name:   "both families and others",
			tables: "table ip wg-quick-wg0\ntable inet filter\ntable ip6 wg-quick-wg0\ntable ip wg-quick-wg01\ntable ip6 wg-quick-wg1\n",
			iface:  "wg0",
			want:   "delete table ip wg-quick-wg0\ndelete table ip6 wg-quick-wg0\n",
		},
		{
			name:   "any family",
			tables: "table inet wg-quick-wg0\n",
			iface:  "wg0",
			want:   "delete table inet wg-quick-wg0\n",
		},
		{
			name:   "prefix of another name",
			tables: "table ip my-wg-quick-wg0x\ntable ip wg-quick-wg\n",
			iface:  "wg0",
			want:   "",
		},
		{
			// bash's read drops a last line without a newline.
			name:   "unterminated last line",
			tables: "table ip wg-quick-wg0\ntable ip6 wg-quick-wg0",
			iface:  "wg0",
			want:   "delete table ip wg-quick-wg0\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, NFTDelete(tt.tables, tt.iface)); diff != "" {
				t.Errorf("unexpected script (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIptablesDelete(t *testing.T) {
	const save = `# Generated by iptables-save v1.8.9 (nf_tables) on Mon Jan  1 00:00:00 2024
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -d 10.0.0.3/32 ! -i wg0 -m addrtype ! --src-type LOCAL -m comment --comment "wg-quick(8) rule for wg0" -j DROP
-A PREROUTING -d 10.0.0.9/32 ! -i wg1 -m addrtype ! --src-type LOCAL -m comment --comment "wg-quick(8) rule for wg1" -j DROP
-A PREROUTING -d 10.0.0.8/32 -m comment --comment "wg-quick(8) rule for wg01" -j DROP
COMMIT
# Completed on Mon Jan  1 00:00:00 2024
*mangle
:PREROUTING ACCEPT [0:0]
-A PREROUTING -p udp -m comment --comment "wg-quick(8) rule for wg0" -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff
COMMIT
*filter
-A INPUT -j ACCEPT
COMMIT
`
	tests := []struct {
		name      string
		save      string
		iface     string
		want      string
		wantFound bool
	}{
		{
			name:  "wg0",
			save:  save,
			iface: "wg0",
			want: `*raw
-D PREROUTING -d 10.0.0.3/32 ! -i wg0 -m addrtype ! --src-type LOCAL -m comment --comment "wg-quick(8) rule for wg0" -j DROP
COMMIT
*mangle
-D PREROUTING -p udp -m comment --comment "wg-quick(8) rule for wg0" -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff
COMMIT
*filter
COMMIT
`,
			wantFound: true,
		},
		{
			name:  "absent",
			save:  save,
			iface: "wg2",
			want:  "*raw\nCOMMIT\n*mangle\nCOMMIT\n*filter\nCOMMIT\n",
		},
		{name: "empty", save: "", iface: "wg0", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := IptablesDelete(tt.save, tt.iface)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("unexpected restore input (-want +got):\n%s", diff)
			}
			if found != tt.wantFound {
				t.Errorf("found = %v, want %v", found, tt.wantFound)
			}
		})
	}
}
