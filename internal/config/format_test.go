package config

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/keys"
)

func mustKey(t *testing.T, s string) *wgtypes.Key {
	t.Helper()
	k, err := keys.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return &k
}

func TestShowconfEmptyAndZero(t *testing.T) {
	zero := 0
	var zeroMark uint32
	c := &Config{Interface: Interface{ListenPort: &zero, FwMark: &zeroMark, PrivateKey: &wgtypes.Key{}}}
	if got, want := string(Showconf(c)), "[Interface]\n\n"; got != want {
		t.Errorf("Showconf = %q, want %q (zero values are not shown)", got, want)
	}
	c.Peers = []Peer{{PublicKey: *mustKey(t, pub1), PresharedKey: &wgtypes.Key{}, PersistentKeepalive: &zero}}
	if got, want := string(Showconf(c)), "[Interface]\n\n[Peer]\nPublicKey = "+pub1+"\n"; got != want {
		t.Errorf("Showconf = %q, want %q", got, want)
	}
}

func TestSave(t *testing.T) {
	port := 58365
	mark := uint32(0xca6c)
	ka := 25
	c := &Config{
		Interface: Interface{
			PrivateKey: mustKey(t, priv1),
			ListenPort: &port,
			FwMark:     &mark,
			Addresses: []netip.Prefix{netip.MustParsePrefix("10.99.0.3/24"), netip.MustParsePrefix("10.98.0.3/32"),
				netip.MustParsePrefix("fd99::3/64")},
			DNS:        []netip.Addr{netip.MustParseAddr("10.99.0.53")},
			DNSSearch:  []string{"lost.example"},
			MTU:        1420,
			Table:      "off",
			SaveConfig: true,
			PreUp:      []string{`echo "preup %i"`},
			PostUp:     []string{"echo postup %i; echo $(wg show %i listen-port)", "echo # raw"},
			PreDown:    []string{"echo predown %i"},
			PostDown:   []string{"echo postdown %i"},
		},
		Peers: []Peer{
			{PublicKey: *mustKey(t, pub1), PresharedKey: mustKey(t, psk1), AllowedIPs: []AllowedIP{
				{Prefix: netip.MustParsePrefix("0.0.0.0/0")}, {Prefix: netip.MustParsePrefix("::/0")}},
				Endpoint: &Endpoint{Host: "192.168.78.2", Port: 51821, Addr: netip.MustParseAddr("192.168.78.2")}, PersistentKeepalive: &ka},
			{PublicKey: *mustKey(t, pub2)},
		},
	}
	want := "[Interface]\n" +
		"Address = 10.99.0.3/24\n" +
		"Address = 10.98.0.3/32\n" +
		"Address = fd99::3/64\n" +
		"DNS = 10.99.0.53\n" +
		"MTU = 1420\n" +
		"Table = off\n" +
		"SaveConfig = true\n" +
		"PreUp = echo \"preup %i\"\n" +
		"PostUp = echo postup %i; echo $(wg show %i listen-port)\n" +
		"PostUp = echo # raw\n" +
		"PreDown = echo predown %i\n" +
		"PostDown = echo postdown %i\n" +
		"ListenPort = 58365\n" +
		"FwMark = 0xca6c\n" +
		"PrivateKey = " + priv1 + "\n" +
		"\n" +
		"[Peer]\n" +
		"PublicKey = " + pub1 + "\n" +
		"PresharedKey = " + psk1 + "\n" +
		"AllowedIPs = 0.0.0.0/0, ::/0\n" +
		"Endpoint = 192.168.78.2:51821\n" +
		"PersistentKeepalive = 25\n" +
		"\n" +
		"[Peer]\n" +
		"PublicKey = " + pub2 + "\n"
	if diff := cmp.Diff(want, string(Save(c))); diff != "" {
		t.Errorf("unexpected save text (-want +got):\n%s", diff)
	}
}

func TestSaveNothingToShow(t *testing.T) {
	// wg showconf prints "[Interface]\n\n"; wg-quick's $(...) leaves
	// "[Interface]" with no newline for its substitution to match, so the
	// wg-quick block is dropped. Reproduced on purpose.
	c := &Config{Interface: Interface{Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")}}}
	if got, want := string(Save(c)), "[Interface]\n"; got != want {
		t.Errorf("Save = %q, want %q", got, want)
	}
	c.Interface.ListenPort = new(int)
	*c.Interface.ListenPort = 1
	if got, want := string(Save(c)), "[Interface]\nAddress = 10.0.0.1/24\nListenPort = 1\n"; got != want {
		t.Errorf("Save = %q, want %q", got, want)
	}
}

func TestShowconfRoundTrip(t *testing.T) {
	in := "[Interface]\nListenPort = 1\nFwMark = 0x1\nPrivateKey = " + priv1 + "\n\n" +
		"[Peer]\nPublicKey = " + pub1 + "\nPresharedKey = " + psk1 + "\nAllowedIPs = 10.0.0.0/8, ::1.2.3.4/128\nEndpoint = [fe80::1%eth0]:5\nPersistentKeepalive = 1\n\n" +
		"[Peer]\nPublicKey = " + pub3 + "\n"
	c, err := ParseWG([]byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, string(Showconf(c))); diff != "" {
		t.Errorf("showconf does not round-trip (-want +got):\n%s", diff)
	}
}

func TestEndpointAppendTo(t *testing.T) {
	for _, e := range []Endpoint{
		{Addr: netip.MustParseAddr("192.0.2.1"), Port: 51820},
		{Addr: netip.MustParseAddr("192.0.2.1"), Host: "vpn.example", Port: 1},
		{Addr: netip.MustParseAddr("2001:db8::1"), Port: 65535},
		{Addr: netip.MustParseAddr("::ffff:192.0.2.1"), Port: 2},
		{Addr: netip.MustParseAddr("::192.0.2.1"), Port: 3},
		{Addr: netip.MustParseAddr("fe80::1%eth0"), Port: 4},
		{Host: "vpn.example", Port: 5},
		{Host: "2001:db8::2", Port: 6},
	} {
		if got, want := string(e.appendTo([]byte("x"))), "x"+e.String(); got != want {
			t.Errorf("appendTo(%+v) = %q, String gives %q", e, got, want)
		}
	}
}
