package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	priv1 = "eGvwC0w/iSf++8d3zGyAxieGhkOVC6HS9CM+5ht1kns="
	pub1  = "rH88fXnB0eX4gld6mGOlPI0uEQWNrr4nkzuqOl9fklY="
	pub2  = "IWeStGzEaIGKCJ1YP5ehyGPX7sGKgRzcl2B05xVwBX0="
	pub3  = "44yhZMj/K3757KEpoX8kbhSIPWPQzcIMTZW4Gs/R/AM="
	psk1  = "Q2aEG+IIRk/ukeewLDuShFMoJAnVuPz7sZXQOrFwnQQ="
)

func TestParseWGErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantMsg  string
		unrecog  bool
	}{
		{"unknown key", "[Interface]\nFoo = bar\n", 2, "Line unrecognized: `Foo=bar'", true},
		{"key before section", "PrivateKey = " + priv1 + "\n", 1, "Line unrecognized: `PrivateKey=(hidden)'", true},
		{"empty value", "[Peer]\nPublicKey=" + pub1 + "\nAllowedIPs =\n", 3, "Line unrecognized: `AllowedIPs='", true},
		{"no equals", "[Interface]\nPrivateKey\n", 2, "Line unrecognized: `PrivateKey'", true},
		{"public key in interface", "[Interface]\nPublicKey = " + pub1 + "\n", 2, "Line unrecognized: `PublicKey=(hidden)'", true},
		{"interface key in peer", "[Peer]\nPublicKey = " + pub1 + "\nListenPort = 1\n", 3, "Line unrecognized: `ListenPort=1'", true},
		{"unknown section", "[Interfaces]\n", 1, "Line unrecognized: `[Interfaces]'", true},
		{"wg-quick key for wg", "[Interface]\nAddress = 10.0.0.1/24\n", 2, "Line unrecognized: `Address=10.0.0.1/24'", true},
		{"bad key", "[Interface]\nPrivateKey = abc\n", 2, "Key is not the correct length or format: `abc'", false},
		{"missing public key", "[Interface]\n\n[Peer]\nAllowedIPs = 10.0.0.1\n", 3, "A peer is missing a public key", false},
		{"bad port", "[Interface]\nListenPort = abc\n", 2, "Servname not supported for ai_socktype: `abc'", false},
		{"error stops at first", "[Interface]\nFoo=1\nBar=2\n", 2, "Line unrecognized: `Foo=1'", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWG([]byte(tt.in), Options{File: "wg0.conf", Services: testServices})
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Line != tt.wantLine || pe.Msg != tt.wantMsg || pe.File != "wg0.conf" {
				t.Fatalf("got %s:%d %q, want line %d %q", pe.File, pe.Line, pe.Msg, tt.wantLine, tt.wantMsg)
			}
			if errors.Is(err, ErrLineUnrecognized) != tt.unrecog {
				t.Fatalf("errors.Is(ErrLineUnrecognized) = %v", !tt.unrecog)
			}
			if !strings.HasPrefix(err.Error(), "wg0.conf:") || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Error() = %q: want the place and the reference message", err)
			}
		})
	}
}

func TestParseWGGrammar(t *testing.T) {
	// Every rule of wg's line grammar in one file: comments anywhere, all
	// white space deleted (inside keys and values too), any case, CRLF,
	// several [Interface] sections merging, AllowedIPs accumulating, a
	// duplicate peer kept as its own entry, last value wins.
	in := "# comment\r\n" +
		"[ interface ]\r\n" +
		"List en Port = 5 1820 # inline\r\n" +
		"\tprivatekey=" + priv1 + "\r\n" +
		"[PEER]\n" +
		"PublicKey = " + pub1 + "\n" +
		"AllowedIPs = 10.0.0.0/24, 10.0.1.0/24\n" +
		"ALLOWEDIPS = fd00::/64\n" +
		"Endpoint = [2001:db8::1]:51820\n" +
		"PersistentKeepalive = 25\n" +
		"PersistentKeepalive = off\n" +
		"PresharedKey = " + psk1 + "\n" +
		"[Interface]\n" +
		"FwMark = 0x10\n" +
		"ListenPort = 51821\n" +
		"[Peer]\n" +
		"PublicKey = " + pub1 + "\n" +
		"[Peer]\n" +
		"PublicKey = " + pub2 + "\n" +
		"AllowedIPs = +10.9.0.0/16\n" +
		"Endpoint = 192.0.2.1:1\n" +
		"Endpoint = 192.0.2.2:2"
	c, err := ParseWG([]byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "[Interface]\n" +
		"ListenPort = 51821\n" +
		"FwMark = 0x10\n" +
		"PrivateKey = " + priv1 + "\n" +
		"\n" +
		"[Peer]\n" +
		"PublicKey = " + pub1 + "\n" +
		"PresharedKey = " + psk1 + "\n" +
		"AllowedIPs = 10.0.0.0/24, 10.0.1.0/24, fd00::/64\n" +
		"Endpoint = [2001:db8::1]:51820\n" +
		"\n" +
		"[Peer]\n" +
		"PublicKey = " + pub1 + "\n" +
		"\n" +
		"[Peer]\n" +
		"PublicKey = " + pub2 + "\n" +
		"AllowedIPs = 10.9.0.0/16\n" +
		"Endpoint = 192.0.2.2:2\n"
	if diff := cmp.Diff(want, string(Showconf(c))); diff != "" {
		t.Errorf("unexpected showconf (-want +got):\n%s", diff)
	}
	if !c.Peers[0].ReplaceAllowedIPs || !c.Peers[1].ReplaceAllowedIPs || c.Peers[2].ReplaceAllowedIPs {
		t.Errorf("ReplaceAllowedIPs = %v %v %v, want true true false",
			c.Peers[0].ReplaceAllowedIPs, c.Peers[1].ReplaceAllowedIPs, c.Peers[2].ReplaceAllowedIPs)
	}
	if got := []int{c.Peers[0].Line, c.Peers[1].Line, c.Peers[2].Line}; !cmp.Equal(got, []int{5, 16, 18}) {
		t.Errorf("peer lines = %v", got)
	}
	if c.Peers[0].PersistentKeepalive == nil || *c.Peers[0].PersistentKeepalive != 0 {
		t.Errorf("keepalive off should be present and 0")
	}
}

func TestParseWGNUL(t *testing.T) {
	// wg reads each line as a C string: a NUL ends it.
	c, err := ParseWG([]byte("[Interface]\nListenPort = 5\x00garbage\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if *c.Interface.ListenPort != 5 {
		t.Fatalf("ListenPort = %d", *c.Interface.ListenPort)
	}
}

func TestParseWGWarnings(t *testing.T) {
	var got []string
	_, err := ParseWG([]byte("[Peer]\nPublicKey="+pub1+"\n\nAllowedIPs=10.0.0.7/24\n"), Options{Warn: func(line int, msg string) {
		got = append(got, strings.Join([]string{msg, "@", string(rune('0' + line))}, ""))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Warning: AllowedIP has nonzero host part: 10.0.0.7/24@4"}, got); diff != "" {
		t.Errorf("unexpected warnings (-want +got):\n%s", diff)
	}
}

func TestLexStripDirectives(t *testing.T) {
	in := "# leading comment\n" +
		"  [Interface]  \n" +
		"Address = 10.0.0.1/24, fd00::1/64 # both\n" +
		"PrivateKey = " + priv1 + "\n" +
		"address=10.0.0.2\n" +
		"DNS = 10.0.0.53, example.com,fd00::53\n" +
		"MTU = 1420\n" +
		"Table = off\n" +
		"PostUp = iptables -A FORWARD -i %i -j ACCEPT; echo 'a # b' # c\n" +
		"PostUp = echo two\n" +
		"SaveConfig = TRUE\n" +
		"\t\n" +
		"[Peer]\n" +
		"PublicKey = " + pub1 + "\r\n" +
		"Address = 10.0.0.9\n" +
		"[Interface]\n" +
		"PreDown = echo x=y\n" +
		"[ Interface ]\n" +
		"MTU = 9\n"
	directives, err := Directives([]byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantStrip := "# leading comment\n" +
		"[Interface]\n" +
		"PrivateKey = " + priv1 + "\n" +
		"\n" +
		"[Peer]\n" +
		"PublicKey = " + pub1 + "\r\n" +
		"Address = 10.0.0.9\n" +
		"[Interface]\n" +
		"[ Interface ]\n" +
		"MTU = 9\n" +
		"\n"
	stripped, err := Strip([]byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantStrip, string(stripped)); diff != "" {
		t.Errorf("unexpected strip (-want +got):\n%s", diff)
	}
	var keys []string
	for _, d := range directives {
		keys = append(keys, d.Key)
	}
	if diff := cmp.Diff([]string{"Address", "Address", "DNS", "MTU", "Table", "PostUp", "PostUp", "SaveConfig", "PreDown"}, keys); diff != "" {
		t.Errorf("unexpected directives (-want +got):\n%s", diff)
	}
	if got := directives[5].Raw; got != "iptables -A FORWARD -i %i -j ACCEPT; echo 'a # b' # c" {
		t.Errorf("hook raw text = %q", got)
	}
	if got := directives[5].Value; got != "iptables -A FORWARD -i %i -j ACCEPT; echo 'a" {
		t.Errorf("hook stripped text = %q", got)
	}
}

func TestLexSaveConfig(t *testing.T) {
	_, err := Strip([]byte("[Interface]\nSaveConfig = yes\n"), Options{File: "x.conf"})
	checkErr(t, err, "x.conf:2: `yes' is neither true nor false")
	// Outside [Interface] SaveConfig is wg's business, not wg-quick's.
	if _, err := Strip([]byte("[Peer]\nSaveConfig = yes\n"), Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestStripLastLine(t *testing.T) {
	for in, want := range map[string]string{
		"[Peer]":        "[Peer]\n\n",
		"[Peer]\n":      "[Peer]\n\n",
		"[Peer]\n  \t":  "[Peer]\n\n",
		"[Peer]\n\n":    "[Peer]\n\n\n",
		"":              "\n",
		"a\x00b\n":      "ab\n\n",
		"\xef\xbb\xbfx": "\xef\xbb\xbfx\n\n",
	} {
		stripped, err := Strip([]byte(in), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(stripped); got != want {
			t.Errorf("Strip(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseQuick(t *testing.T) {
	in := "[Interface]\n" +
		"Address = 10.0.0.1/24, fd00::1/64\n" +
		"Address = 10.0.0.2\n" +
		"DNS = 10.0.0.53, example.com fd00::53\n" +
		"MTU = 1420\n" +
		"Table = 1234\n" +
		"PreUp = echo pre # kept\n" +
		"PostUp = echo up1\n" +
		"PostUp = echo up2\n" +
		"PreDown = echo pd\n" +
		"PostDown = echo down\n" +
		"SaveConfig = true\n" +
		"PrivateKey = " + priv1 + "\n" +
		"ListenPort = 51820\n" +
		"[Peer]\n" +
		"PublicKey = " + pub1 + "\n" +
		"AllowedIPs = 0.0.0.0/0\n"
	c, err := ParseQuick([]byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	want := Interface{
		PrivateKey:  c.Interface.PrivateKey,
		ListenPort:  c.Interface.ListenPort,
		Addresses:   []netip.Prefix{pfx("10.0.0.1/24"), pfx("fd00::1/64"), pfx("10.0.0.2/32")},
		AddressText: []string{"10.0.0.1/24", "fd00::1/64", "10.0.0.2"},
		DNS:         []netip.Addr{addr("10.0.0.53"), addr("fd00::53")},
		DNSSearch:   []string{"example.com"},
		MTU:         1420,
		Table:       "1234",
		PreUp:       []string{"echo pre # kept"},
		PostUp:      []string{"echo up1", "echo up2"},
		PreDown:     []string{"echo pd"},
		PostDown:    []string{"echo down"},
		SaveConfig:  true,
	}
	opts := cmp.Options{
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
		cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	}
	if diff := cmp.Diff(want, c.Interface, opts); diff != "" {
		t.Errorf("unexpected interface (-want +got):\n%s", diff)
	}
	if *c.Interface.ListenPort != 51820 || len(c.Peers) != 1 {
		t.Errorf("wg part not parsed: %+v", c)
	}
}

func TestParseQuickErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantMsg  string
	}{
		{"bad address", "[Interface]\nAddress = 10.0.0.300/24\n", 2, "Address is not an IP address with an optional /prefix length: `10.0.0.300/24'"},
		{"address bits", "[Interface]\nAddress = 10.0.0.1/33\n", 2, "Address is not an IP address with an optional /prefix length: `10.0.0.1/33'"},
		{"bad dns server", "[Interface]\nDNS = 10.0.0.1.1\n", 2, "DNS server is not an IP address: `10.0.0.1.1'"},
		// All digits and dots: wg-quick calls it a server, so it must be one.
		{"digits are a server", "[Interface]\nDNS = 123\n", 2, "DNS server is not an IP address: `123'"},
		{"bad mtu", "[Interface]\nMTU = big\n", 2, "MTU is not a number from 1 to 2147483647: `big'"},
		{"mtu zero", "[Interface]\nMTU = 0\n", 2, "MTU is not a number from 1 to 2147483647: `0'"},
		{"mtu above int", "[Interface]\nMTU = 2147483648\n", 2, "MTU is not a number from 1 to 2147483647: `2147483648'"},
		{"bad table", "[Interface]\nTable = a b\n", 2, "Table is neither auto, off, a number nor a table name: `a b'"},
		{"bad save", "[Interface]\nSaveConfig = 1\n", 2, "`1' is neither true nor false"},
		{"first in line order", "[Interface]\nFoo = 1\nMTU = x\n", 2, "Line unrecognized: `Foo=1'"},
		{"wg-quick order", "[Interface]\nMTU = x\nFoo = 1\n", 2, "MTU is not a number from 1 to 2147483647: `x'"},
		{"spaced header hides address", "[ Interface ]\nAddress = 10.0.0.1/24\n", 2, "Line unrecognized: `Address=10.0.0.1/24'"},
		{"address under peer", "[Peer]\nPublicKey = " + pub1 + "\nAddress = 10.0.0.1\n", 3, "Line unrecognized: `Address=10.0.0.1'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseQuick([]byte(tt.in), Options{File: "wg0.conf"})
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Line != tt.wantLine || pe.Msg != tt.wantMsg {
				t.Fatalf("got line %d %q, want line %d %q", pe.Line, pe.Msg, tt.wantLine, tt.wantMsg)
			}
		})
	}
}

// TestParseQuickLargeMTU: the file does not cap the MTU at 65535. A kernel
// WireGuard link takes 70000 (the reference passes it to ip(8)); the TUN
// of a userspace device refuses it when the MTU is set, which wg-quick
// rolls back. Found in the VM (scripts/vm): ours refused the file.
func TestParseQuickLargeMTU(t *testing.T) {
	for _, mtu := range []int{65536, 70000, 2147483647} {
		cfg, err := ParseQuick([]byte(fmt.Sprintf("[Interface]\nMTU = %d\n", mtu)), Options{File: "wg0.conf"})
		if err != nil || cfg.Interface.MTU != mtu {
			t.Errorf("MTU = %d: %v, MTU %d", mtu, err, cfg.Interface.MTU)
		}
	}
}

func TestParseQuickBOMHint(t *testing.T) {
	_, err := ParseQuick([]byte("\xef\xbb\xbf[Interface]\nPrivateKey = "+priv1+"\n"), Options{File: "wg0.conf"})
	if err == nil || !strings.Contains(err.Error(), "byte order mark") || !errors.Is(err, ErrLineUnrecognized) {
		t.Fatalf("error %v: want Line unrecognized with a byte order mark hint", err)
	}
}
