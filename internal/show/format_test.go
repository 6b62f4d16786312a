package show

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		name string
		secs uint64
		want string
	}{
		// wg never formats a zero duration; pretty_time then writes nothing.
		{"zero", 0, ""},
		{"one second", 1, "1 second"},
		{"seconds", 25, "25 seconds"},
		{"one minute", 60, "1 minute"},
		{"minute and seconds", 100, "1 minute, 40 seconds"},
		{"one hour", 3600, "1 hour"},
		{"hour minute second", 3661, "1 hour, 1 minute, 1 second"},
		{"plurals", 7322, "2 hours, 2 minutes, 2 seconds"},
		{"keepalive max", 65535, "18 hours, 12 minutes, 15 seconds"},
		{"one day", 86400, "1 day"},
		{"day and second", 86401, "1 day, 1 second"},
		{"364 days", 364 * 86400, "364 days"},
		{"one year", year, "1 year"},
		{"every unit", 31626061, "1 year, 1 day, 1 hour, 1 minute, 1 second"},
		{"years and second", 2*year + 1, "2 years, 1 second"},
		{"leap years ignored", 4 * 366 * 86400, "4 years, 4 days"},
		{"max", 1<<64 - 1, "584942417355 years, 26 days, 7 hours, 15 seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FormatDuration(tt.secs, false)); diff != "" {
				t.Errorf("unexpected duration (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormatDurationColor(t *testing.T) {
	want := "1 \x1b[36mminute\x1b[0m, 40 \x1b[36mseconds\x1b[0m"
	if diff := cmp.Diff(want, FormatDuration(100, true)); diff != "" {
		t.Errorf("unexpected duration (-want +got):\n%s", diff)
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		b    uint64
		want string
	}{
		{0, "0 B"},
		{1, "1 B"},
		{1023, "1023 B"},
		{1024, "1.00 KiB"},
		// %.2f rounds the exact binary value half to even: 1.125 → 1.12.
		{1152, "1.12 KiB"},
		{1408, "1.38 KiB"},
		{1048575, "1024.00 KiB"},
		{1048576, "1.00 MiB"},
		{1073741823, "1024.00 MiB"},
		{1073741824, "1.00 GiB"},
		{1<<40 - 1, "1024.00 GiB"},
		{1 << 40, "1.00 TiB"},
		{5e15, "4547.47 TiB"},
		{1<<64 - 1, "16777216.00 TiB"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FormatBytes(tt.b, false)); diff != "" {
				t.Errorf("FormatBytes(%d) (-want +got):\n%s", tt.b, diff)
			}
		})
	}
}

func TestFormatBytesColor(t *testing.T) {
	for b, want := range map[uint64]string{
		1023: "1023 \x1b[36mB\x1b[0m",
		1024: "1.00 \x1b[36mKiB\x1b[0m",
	} {
		if diff := cmp.Diff(want, FormatBytes(b, true)); diff != "" {
			t.Errorf("FormatBytes(%d, true) (-want +got):\n%s", b, diff)
		}
	}
}

func Test_ago(t *testing.T) {
	tests := []struct {
		name      string
		then, now int64
		want      string
	}{
		{"same second", 1000, 1000, "Now"},
		{"future", 1001, 1000, "(System clock wound backward; connection problems may ensue.)"},
		{"past", 900, 1000, "1 minute, 40 seconds ago"},
		{"one second", 999, 1000, "1 second ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, plain(ago(tt.then, tt.now))); diff != "" {
				t.Errorf("unexpected text (-want +got):\n%s", diff)
			}
		})
	}
}

func Test_addrString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"1.2.3.4", "1.2.3.4"},
		{"0.0.0.0", "0.0.0.0"},
		{"::", "::"},
		{"::1", "::1"},
		// glibc's IPv4-compatible form: words 0-5 zero, word 6 not.
		{"::1.2.3.4", "::1.2.3.4"},
		{"::0.1.0.2", "::0.1.0.2"},
		{"::0.0.1.2", "::102"},
		{"::ffff:1.2.3.4", "::ffff:1.2.3.4"},
		{"::ffff:0:0", "::ffff:0.0.0.0"},
		{"64:ff9b::102:304", "64:ff9b::102:304"},
		{"1:0:0:1:0:0:1:0", "1::1:0:0:1:0"},
		{"1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"},
		{"2001:DB8::1", "2001:db8::1"},
		{"fe80::1%eth0", "fe80::1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, addrString(netip.MustParseAddr(tt.in))); diff != "" {
				t.Errorf("unexpected address (-want +got):\n%s", diff)
			}
		})
	}
}

func Test_endpointString(t *testing.T) {
	tests := []struct {
		name   string
		in     *net.UDPAddr
		want   string
		wantOK bool
	}{
		{"nil", nil, "", false},
		{"no IP", &net.UDPAddr{Port: 1}, "", false},
		{"bad IP length", &net.UDPAddr{IP: net.IP{1, 2, 3}, Port: 1}, "", false},
		{"IPv4", udp4("1.2.3.4", 5), "1.2.3.4:5", true},
		{"IPv4-mapped stays IPv6", udp6("::ffff:1.2.3.4", "", 5), "[::ffff:1.2.3.4]:5", true},
		{"IPv4-compatible", udp6("::1.2.3.4", "", 5), "[::1.2.3.4]:5", true},
		{"IPv6", udp6("2001:db8::1", "", 51820), "[2001:db8::1]:51820", true},
		{"scoped by name", udp6("fe80::1", "lo", 51820), "[fe80::1%lo]:51820", true},
		{"scoped by number", udp6("fe80::1", "7", 51820), "[fe80::1%7]:51820", true},
		{"port is 16 bits", &net.UDPAddr{IP: net.IP{1, 2, 3, 4}, Port: 65536 + 80}, "1.2.3.4:80", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := endpointString(tt.in)
			if ok != tt.wantOK {
				t.Errorf("ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("unexpected endpoint (-want +got):\n%s", diff)
			}
		})
	}
}

func Test_allowedIPs(t *testing.T) {
	tests := []struct {
		name string
		in   net.IPNet
		want allowedIP
	}{
		{"IPv4", ipNet("10.0.0.0/8"), allowedIP{"10.0.0.0", "8"}},
		{"IPv4 in 16 bytes", ipNet16("10.0.0.0/8"), allowedIP{"10.0.0.0", "8"}},
		{"IPv4-mapped IPv6", ipNet("::ffff:1.2.3.4/128"), allowedIP{"::ffff:1.2.3.4", "128"}},
		{"IPv4-compatible", ipNet("::1.2.3.4/128"), allowedIP{"::1.2.3.4", "128"}},
		{"IPv6 default", ipNet("::/0"), allowedIP{"::", "0"}},
		{"IPv4 without mask", net.IPNet{IP: net.IP{192, 0, 2, 0}}, allowedIP{"192.0.2.0", "0"}},
		{"IPv6 mask, 4-byte IP", net.IPNet{IP: net.IP{1, 2, 3, 4}, Mask: net.CIDRMask(128, 128)}, allowedIP{"::ffff:1.2.3.4", "128"}},
		{"no address", net.IPNet{}, allowedIP{"", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := allowedIPs([]net.IPNet{tt.in})
			if diff := cmp.Diff([]allowedIP{tt.want}, got, cmp.AllowUnexported(allowedIP{})); diff != "" {
				t.Errorf("unexpected allowed IP (-want +got):\n%s", diff)
			}
		})
	}
}

func Test_stripANSI(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "interface: wg0\n", "interface: wg0\n"},
		{"reset alone", "\x1b[0m", ""},
		{"colours", "\x1b[32m\x1b[1minterface\x1b[0m: \x1b[32mwg0\x1b[0m\n", "interface: wg0\n"},
		{"multi-parameter", "a\x1b[1;31;40mb", "ab"},
		{"sequence eats up to a letter", "a\x1b[12;34 !x+5", "a+5"},
		{"open sequence runs to the end", "a\x1b[123", "a"},
		{"ESC without bracket kept", "a\x1bXb", "a\x1bXb"},
		{"lone ESC kept", "\x1b", "\x1b"},
		// The C loop stops two bytes before the end of the chunk.
		{"ESC [ as the last two bytes kept", "ab\x1b[", "ab\x1b["},
		{"ESC [ letter at the end stripped", "ab\x1b[m", "ab"},
		{"ESC as the last byte kept", "ab\x1b", "ab\x1b"},
		{"short chunk", "\x1b[", "\x1b["},
		{"only ASCII letters end a sequence", "a\x1b[\xc3\xa9m!", "a!"},
		{"nested", "\x1b[\x1b[1mX", "X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, plain(tt.in)); diff != "" {
				t.Errorf("unexpected result (-want +got):\n%s", diff)
			}
		})
	}
}

func Test_deviceName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"wg0", "wg0"},
		{"exactly15bytes_", "exactly15bytes_"},
		{"sixteen_bytes_16", "sixteen_bytes_1"},
		{"nul\x00after", "nul"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d := deviceCases()[1].build(goldenNow)
			d.Name = tt.in
			if diff := cmp.Diff(tt.want, deviceName(d)); diff != "" {
				t.Errorf("unexpected name (-want +got):\n%s", diff)
			}
		})
	}
}
