package route

import (
	"net/netip"
	"testing"
)

func TestCovers(t *testing.T) {
	routes := []netip.Prefix{
		netip.MustParsePrefix("10.77.0.0/24"),
		netip.MustParsePrefix("fd78::/64"),
		netip.MustParsePrefix("10.10.0.5/16"), // host bits, as a listing may hold them
	}
	tests := []struct {
		p    string
		want bool
	}{
		{"10.77.0.0/24", true},
		{"10.77.0.128/25", true},
		{"10.77.0.5/32", true},
		{"10.77.0.0/23", false},  // wider
		{"10.77.1.0/24", false},  // beside
		{"10.10.200.0/24", true}, // inside the masked 10.10.0.0/16
		{"fd78::1:0/112", true},
		{"fd78:0:0:1::/64", false},
		{"::ffff:10.77.0.5/128", false}, // IPv6, even if it maps an IPv4 address inside
		{"0.0.0.0/0", false},
	}
	for _, tt := range tests {
		if got := Covers(routes, netip.MustParsePrefix(tt.p)); got != tt.want {
			t.Errorf("Covers(%v, %s) = %v, want %v", routes, tt.p, got, tt.want)
		}
	}
	if Covers(nil, netip.MustParsePrefix("10.77.0.5/32")) {
		t.Error("Covers(nil, …) = true")
	}
}
