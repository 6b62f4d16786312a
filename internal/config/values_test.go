package config

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testServices stands in for /etc/services so results do not depend on the
// machine.
func testServices(name string) (uint16, bool) {
	p, ok := map[string]uint16{"domain": 53, "ntp": 123, "nameserver": 42}[name]
	return p, ok
}

func TestParsePort(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr string
	}{
		{in: "51820", want: 51820},
		{in: "0", want: 0},
		{in: "65535", want: 65535},
		// getaddrinfo truncates numbers to 16 bits.
		{in: "65536", want: 0},
		{in: "70000", want: 4464},
		{in: "4294967297", want: 1},
		// strtoul skips leading blanks and takes a sign.
		{in: " 5", want: 5},
		{in: "+5", want: 5},
		{in: "domain", want: 53},
		{in: "nameserver", want: 42},
		{in: "", wantErr: "Unable to parse empty port"},
		{in: "-1", wantErr: "Servname not supported for ai_socktype: `-1'"},
		{in: "2147483648", wantErr: "Servname not supported for ai_socktype: `2147483648'"},
		{in: "0x10", wantErr: "Servname not supported for ai_socktype: `0x10'"},
		{in: "abc", wantErr: "Servname not supported for ai_socktype: `abc'"},
		{in: "Domain", wantErr: "Servname not supported for ai_socktype: `Domain'"},
		{in: "5 ", wantErr: "Servname not supported for ai_socktype: `5 '"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePort(tt.in, testServices)
			checkErr(t, err, tt.wantErr)
			if err == nil && got != tt.want {
				t.Fatalf("ParsePort(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want %q", want)
	case want != "" && err.Error() != want:
		t.Fatalf("error %q, want %q", err.Error(), want)
	}
}

func TestParseFwMark(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"off", 0, true},
		{"OFF", 0, true},
		{"0", 0, true},
		{"51820", 51820, true},
		{"0xca6c", 0xca6c, true},
		{"0xCA6C", 0xca6c, true},
		{"0xffffffff", 0xffffffff, true},
		{"4294967295", 0xffffffff, true},
		// Leading zeros are decimal, as strtoul with base 10 reads them.
		{"010", 10, true},
		{"0X10", 0, false},
		{"0x", 0, false},
		{"0x0x1", 0, false},
		{"4294967296", 0, false},
		{"0x100000000", 0, false},
		{"-1", 0, false},
		{"", 0, false},
		{"1k", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFwMark(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseFwMark(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil {
				checkErr(t, err, "Fwmark is neither 0/off nor 0-0xffffffff: `"+tt.in+"'")
			} else if got != tt.want {
				t.Fatalf("ParseFwMark(%q) = %#x, want %#x", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseKeepalive(t *testing.T) {
	for in, want := range map[string]int{"off": 0, "Off": 0, "0": 0, "25": 25, "65535": 65535, "007": 7} {
		got, err := ParseKeepalive(in)
		if err != nil || got != want {
			t.Errorf("ParseKeepalive(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"65536", "-1", "1x", "", "+5", " 5", "0x10"} {
		_, err := ParseKeepalive(in)
		checkErr(t, err, "Persistent keepalive interval is neither 0/off nor 1-65535: `"+in+"'")
	}
}

func TestParseAllowedIPs(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name        string
		in          string
		want        []AllowedIP
		wantReplace bool
		wantWarn    []string
		wantErr     string
	}{
		{name: "empty", in: "", wantReplace: true},
		{name: "v4 and v6", in: "10.0.0.0/24,fd00::/64", want: []AllowedIP{{Prefix: p("10.0.0.0/24")}, {Prefix: p("fd00::/64")}}, wantReplace: true},
		{name: "host routes by default", in: "10.0.0.1,fd00::1", want: []AllowedIP{{Prefix: p("10.0.0.1/32")}, {Prefix: p("fd00::1/128")}}, wantReplace: true},
		{name: "leading zeros in cidr", in: "10.0.0.0/024", want: []AllowedIP{{Prefix: p("10.0.0.0/24")}}, wantReplace: true},
		{name: "mapped stays v6", in: "::ffff:1.2.3.4/128", want: []AllowedIP{{Prefix: p("::ffff:1.2.3.4/128")}}, wantReplace: true},
		{name: "host part warns", in: "10.0.0.7/24", want: []AllowedIP{{Prefix: netip.PrefixFrom(netip.MustParseAddr("10.0.0.7"), 24)}}, wantReplace: true,
			wantWarn: []string{"Warning: AllowedIP has nonzero host part: 10.0.0.7/24"}},
		{name: "incremental", in: "+10.0.0.0/8,-10.1.0.0/16", want: []AllowedIP{{Prefix: p("10.0.0.0/8")}, {Prefix: p("10.1.0.0/16"), Remove: true}}, wantReplace: false},
		{name: "three octets", in: "10.0.0", wantErr: "Unable to parse IP address: `10.0.0'"},
		{name: "leading zero octet", in: "010.1.1.1", wantErr: "Unable to parse IP address: `010.1.1.1'"},
		{name: "zone", in: "fe80::1%eth0/64", wantErr: "Unable to parse IP address: `fe80::1%eth0'"},
		{name: "v4 too long", in: "10.0.0.1/33", wantErr: "AllowedIP is not in the correct format: `10.0.0.1/33'"},
		{name: "v6 too long", in: "fd00::/129", wantErr: "AllowedIP is not in the correct format: `fd00::/129'"},
		{name: "empty cidr", in: "10.0.0.1/", wantErr: "AllowedIP is not in the correct format: `10.0.0.1/'"},
		{name: "signed cidr", in: "10.0.0.1/+8", wantErr: "AllowedIP is not in the correct format: `10.0.0.1/+8'"},
		{name: "double slash", in: "10.0.0.1/8/8", wantErr: "AllowedIP is not in the correct format: `10.0.0.1/8/8'"},
		{name: "empty entry", in: "10.0.0.1,,10.0.0.2", wantErr: "Unable to parse IP address: `'"},
		{name: "trailing comma", in: "10.0.0.1,", wantErr: "Unable to parse IP address: `'"},
		{name: "prefix removed in message", in: "+10.0.0.1/99", wantErr: "AllowedIP is not in the correct format: `10.0.0.1/99'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warns []string
			got, replace, err := ParseAllowedIPs(tt.in, func(s string) { warns = append(warns, s) })
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("unexpected allowed IPs (-want +got):\n%s", diff)
			}
			if replace != tt.wantReplace {
				t.Errorf("replace = %v, want %v", replace, tt.wantReplace)
			}
			if diff := cmp.Diff(tt.wantWarn, warns); diff != "" {
				t.Errorf("unexpected warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in       string
		wantHost string
		wantPort uint16
		wantIP   bool
		wantStr  string
		wantErr  string
	}{
		{in: "192.0.2.1:51820", wantHost: "192.0.2.1", wantPort: 51820, wantIP: true, wantStr: "192.0.2.1:51820"},
		{in: "[2001:db8::1]:51820", wantHost: "2001:db8::1", wantPort: 51820, wantIP: true, wantStr: "[2001:db8::1]:51820"},
		// Unbracketed IPv6 splits at the last colon.
		{in: "fd00::1:51820", wantHost: "fd00::1", wantPort: 51820, wantIP: true, wantStr: "[fd00::1]:51820"},
		{in: "[192.0.2.1]:5", wantHost: "192.0.2.1", wantPort: 5, wantIP: true, wantStr: "192.0.2.1:5"},
		{in: "[fe80::1%eth0]:5", wantHost: "fe80::1%eth0", wantPort: 5, wantIP: true, wantStr: "[fe80::1%eth0]:5"},
		{in: "vpn.example.com:51820", wantHost: "vpn.example.com", wantPort: 51820, wantStr: "vpn.example.com:51820"},
		{in: "localhost:domain", wantHost: "localhost", wantPort: 53, wantStr: "localhost:53"},
		{in: "192.0.2.1:99999", wantHost: "192.0.2.1", wantPort: 34463, wantIP: true, wantStr: "192.0.2.1:34463"},
		{in: "", wantErr: "Unable to parse empty endpoint"},
		{in: "192.0.2.1", wantErr: "Unable to find port of endpoint: `192.0.2.1'"},
		{in: "192.0.2.1:", wantErr: "Unable to find port of endpoint: `192.0.2.1:'"},
		{in: "[fd00::1", wantErr: "Unable to find matching brace of endpoint: `[fd00::1'"},
		{in: "[fd00::1]51820", wantErr: "Unable to find port of endpoint: `[fd00::1]51820'"},
		{in: "[fd00::1]:", wantErr: "Unable to find port of endpoint: `[fd00::1]:'"},
		{in: ":5", wantErr: "Name or service not known: `:5'"},
		// Found by fuzzing: a zone no interface could have; printing it
		// back as [::%]]:0 would not parse.
		{in: "::%]:0", wantErr: "Name or service not known: `::%]:0'"},
		{in: "[fe80::1%a b]:5", wantErr: "Name or service not known: `[fe80::1%a b]:5'"},
		{in: "192.0.2.1:nosuch", wantErr: "Servname not supported for ai_socktype: `192.0.2.1:nosuch'"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := ParseEndpoint(tt.in, testServices)
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if e.Host != tt.wantHost || e.Port != tt.wantPort || e.Addr.IsValid() != tt.wantIP {
				t.Fatalf("ParseEndpoint(%q) = %+v", tt.in, e)
			}
			if got := e.String(); got != tt.wantStr {
				t.Fatalf("String() = %q, want %q", got, tt.wantStr)
			}
		})
	}
}

// Test_formatAddr checks the one place Go's formatting differs from glibc's
// inet_ntop, which wg and ip(8) use.
func Test_formatAddr(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1":             "10.0.0.1",
		"::1":                  "::1",
		"::":                   "::",
		"::1.2.3.4":            "::1.2.3.4",
		"::ffff:1.2.3.4":       "::ffff:1.2.3.4",
		"::0.0.1.0":            "::100",
		"fd00:0:0:1::1":        "fd00:0:0:1::1",
		"2001:db8:0:1:1:1:1:1": "2001:db8:0:1:1:1:1:1",
		"fe80::1%eth0":         "fe80::1%eth0",
	} {
		if got := formatAddr(netip.MustParseAddr(in)); got != want {
			t.Errorf("formatAddr(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestParseRetries(t *testing.T) {
	tests := []struct {
		in   string
		set  bool
		want int
		ok   bool
	}{
		{"", false, 15, true},
		{"infinity", true, -1, true},
		{"0", true, 0, true},
		{"", true, 0, true},
		{" 3", true, 3, true},
		{"+3", true, 3, true},
		{"2147483647", true, 2147483647, true},
		{"2147483648", true, 0, false},
		{"-1", true, 0, false},
		{"abc", true, 0, false},
		{"3x", true, 0, false},
		{"Infinity", true, 0, false},
	}
	for _, tt := range tests {
		got, err := ParseRetries(tt.in, tt.set)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ParseRetries(%q, %v) = %d, %v", tt.in, tt.set, got, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "Unable to parse WG_ENDPOINT_RESOLUTION_RETRIES: `") {
			t.Errorf("ParseRetries(%q) error text %q", tt.in, err)
		}
	}
}

func TestReadServices(t *testing.T) {
	m := ReadServices(strings.NewReader("# comment\ndomain\t53/tcp\ndomain 53/udp nameserver # DNS\nntp 123/udp\nbad x/udp\nwg 51820/udp wireguard\nwg 9/udp\n"))
	want := map[string]uint16{"domain": 53, "nameserver": 53, "ntp": 123, "wg": 51820, "wireguard": 51820}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("unexpected services (-want +got):\n%s", diff)
	}
}
