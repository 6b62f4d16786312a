package device

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/keys"
)

func key(b byte) wgtypes.Key {
	var k wgtypes.Key
	k[0] = b
	return k
}

func parse(t *testing.T, text string) *config.Config {
	t.Helper()
	c, err := config.ParseWG([]byte(text), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	kA = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	kB = "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	kC = "AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	kD = "AwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)

func ptr[T any](v T) *T { return &v }

func TestWGConfigModes(t *testing.T) {
	c := parse(t, "[Interface]\nListenPort = 5\n[Peer]\nPublicKey = "+kB+"\nAllowedIPs = 10.0.0.7/24\nEndpoint = [fe80::1%lo]:9\nPersistentKeepalive = 0\n")
	ipn := net.IPNet{IP: net.IP{10, 0, 0, 7}, Mask: net.CIDRMask(24, 32)}
	peer := wgtypes.PeerConfig{
		PublicKey:                   key(1),
		Endpoint:                    &net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 9, Zone: "lo"},
		PersistentKeepaliveInterval: ptr(time.Duration(0)),
		ReplaceAllowedIPs:           true,
		AllowedIPs:                  []net.IPNet{ipn},
	}
	tests := []struct {
		mode Mode
		want wgtypes.Config
	}{
		// addconf and set send only what the file names.
		{Set, wgtypes.Config{ListenPort: ptr(5), Peers: []wgtypes.PeerConfig{peer}}},
		// setconf resets the private key and fwmark the file lacks, and
		// replaces the peer list.
		{Replace, wgtypes.Config{PrivateKey: &wgtypes.Key{}, ListenPort: ptr(5), FirewallMark: ptr(0), ReplacePeers: true, Peers: []wgtypes.PeerConfig{peer}}},
	}
	for _, tt := range tests {
		got, err := WGConfig(c, tt.mode)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("mode %d: unexpected request (-want +got):\n%s", tt.mode, diff)
		}
	}
}

func TestWGConfigRemoveAndIncremental(t *testing.T) {
	c := &config.Config{Peers: []config.Peer{{PublicKey: key(1), Remove: true, PersistentKeepalive: ptr(5)}}}
	got, err := WGConfig(c, Set)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]wgtypes.PeerConfig{{PublicKey: key(1), Remove: true}}, got.Peers); diff != "" {
		t.Errorf("a removed peer must carry nothing else (-want +got):\n%s", diff)
	}
	c = parse(t, "[Peer]\nPublicKey = "+kB+"\nAllowedIPs = -10.0.0.0/8\n")
	if _, err := WGConfig(c, Set); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("incremental removal: err = %v, want EOPNOTSUPP", err)
	}
	c = parse(t, "[Peer]\nPublicKey = "+kB+"\nEndpoint = localhost:5\n")
	if _, err := WGConfig(c, Set); err == nil {
		t.Errorf("an unresolved endpoint must not be sent")
	}
}

func TestSyncConfig(t *testing.T) {
	file := parse(t, "[Interface]\nListenPort = 5\n[Peer]\nPublicKey = "+kB+"\nAllowedIPs = 10.0.0.2/32\n[Peer]\nPublicKey = "+kC+"\nPersistentKeepalive = 7\n")
	current := &wgtypes.Device{Peers: []wgtypes.Peer{
		{PublicKey: key(0)},
		{PublicKey: key(1), PresharedKey: key(9), PersistentKeepaliveInterval: 25 * time.Second},
		{PublicKey: key(3)},
		{PublicKey: key(2), PresharedKey: key(9)},
	}}
	got, err := SyncConfig(file, current)
	if err != nil {
		t.Fatal(err)
	}
	want := wgtypes.Config{
		PrivateKey: &wgtypes.Key{}, ListenPort: ptr(5), FirewallMark: ptr(0),
		Peers: []wgtypes.PeerConfig{
			// removals first, in descending key order, as wg emits them
			{PublicKey: key(3), Remove: true},
			{PublicKey: key(0), Remove: true},
			// kept peer B lost its PSK and keepalive in the file: cleared
			{PublicKey: key(1), PresharedKey: &wgtypes.Key{}, PersistentKeepaliveInterval: ptr(time.Duration(0)), ReplaceAllowedIPs: true,
				AllowedIPs: []net.IPNet{{IP: net.IP{10, 0, 0, 2}, Mask: net.CIDRMask(32, 32)}}},
			// kept peer C keeps the file's keepalive and gets its PSK cleared
			{PublicKey: key(2), PresharedKey: &wgtypes.Key{}, PersistentKeepaliveInterval: ptr(7 * time.Second), ReplaceAllowedIPs: true},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unexpected syncconf request (-want +got):\n%s", diff)
	}
	// With no peers on either side syncconf is setconf.
	got, err = SyncConfig(file, &wgtypes.Device{})
	if err != nil || !got.ReplacePeers {
		t.Errorf("syncconf to an empty device should replace peers: %+v %v", got, err)
	}
}

// TestSyncConfigSendsChanges: syncconf sends only the peers the file
// changes, and every peer where the file's sections interact. The device
// state each request leaves is checked against the reference wg in
// cmd/wg's TestConfigCommandsAgainstReference; here, which peers are sent.
func TestSyncConfigSendsChanges(t *testing.T) {
	ip := func(s string) net.IPNet {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		return *n
	}
	// The device: B with two prefixes, an endpoint and a keepalive; C bare.
	device := func() *wgtypes.Device {
		return &wgtypes.Device{Peers: []wgtypes.Peer{
			{PublicKey: key(1), Endpoint: &net.UDPAddr{IP: net.IP{192, 0, 2, 1}, Port: 5}, PersistentKeepaliveInterval: 25 * time.Second,
				AllowedIPs: []net.IPNet{ip("10.0.0.0/24"), ip("fd00::/64")}},
			{PublicKey: key(2)},
		}}
	}
	const b = "[Peer]\nPublicKey = " + kB + "\n"
	const c = "[Peer]\nPublicKey = " + kC + "\n"
	const bSame = b + "AllowedIPs = 10.0.0.0/24, 10.0.0.7/24, fd00::1/64\nEndpoint = 192.0.2.1:5\nPersistentKeepalive = 25\n"
	for _, tc := range []struct {
		name, file string
		sent       []wgtypes.Key // in order, removals included
	}{
		{"unchanged (host bits, a repeat)", bSame + c, nil},
		{"the same prefixes in another order", b + "AllowedIPs = fd00::/64, 10.0.0.0/24\nEndpoint = 192.0.2.1:5\nPersistentKeepalive = 25\n" + c, []wgtypes.Key{key(1)}},
		{"a repeat moves a prefix last", b + "AllowedIPs = 10.0.0.0/24, fd00::/64, 10.0.0.1/24\nEndpoint = 192.0.2.1:5\nPersistentKeepalive = 25\n" + c, []wgtypes.Key{key(1)}},
		{"no endpoint in the file keeps the device's", b + "AllowedIPs = 10.0.0.0/24, fd00::/64\nPersistentKeepalive = 25\n" + c, nil},
		{"roamed endpoint set back", b + "AllowedIPs = 10.0.0.0/24, fd00::/64\nEndpoint = 192.0.2.9:5\nPersistentKeepalive = 25\n" + c, []wgtypes.Key{key(1)}},
		{"keepalive", bSame + c + "PersistentKeepalive = 1\n", []wgtypes.Key{key(2)}},
		{"preshared key", bSame + c + "PresharedKey = " + kB + "\n", []wgtypes.Key{key(2)}},
		{"a prefix fewer", b + "AllowedIPs = 10.0.0.0/24\nEndpoint = 192.0.2.1:5\nPersistentKeepalive = 25\n" + c, []wgtypes.Key{key(1)}},
		{"a new peer, a removed one", bSame + "[Peer]\nPublicKey = " + keys.Encode(key(3)) + "\n", []wgtypes.Key{key(2), key(3)}},
		{"a prefix moved to C", b + "AllowedIPs = fd00::/64\nEndpoint = 192.0.2.1:5\nPersistentKeepalive = 25\n" + c + "AllowedIPs = 10.0.0.0/24\n", []wgtypes.Key{key(1), key(2)}},
		// B is sent and takes the prefix from C, so C is sent after it.
		{"a prefix given to B and then C", bSame + c + "AllowedIPs = 10.0.0.0/24\n", []wgtypes.Key{key(1), key(2)}},
		// Sent in order, C would take it and B take it back: as it is.
		{"a prefix given to C and then B", c + "AllowedIPs = 10.0.0.0/24\n" + bSame, nil},
		{"a prefix given to C, then B, which changes", c + "AllowedIPs = 10.0.0.0/24\n" + bSame + "PresharedKey = " + kB + "\n", []wgtypes.Key{key(1)}},
		{"a key in two sections", bSame + c + c, []wgtypes.Key{key(1), key(2), key(2)}},
		{"incremental list", bSame + c + "AllowedIPs = +10.9.0.0/24\n", []wgtypes.Key{key(1), key(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SyncConfig(parse(t, "[Interface]\nListenPort = 5\n"+tc.file), device())
			if err != nil {
				t.Fatal(err)
			}
			var sent []wgtypes.Key
			for _, p := range got.Peers {
				sent = append(sent, p.PublicKey)
			}
			if diff := cmp.Diff(tc.sent, sent); diff != "" {
				t.Errorf("peers sent (-want +got):\n%s", diff)
			}
			if got.ReplacePeers || got.ListenPort == nil || *got.ListenPort != 5 {
				t.Errorf("interface fields: %+v", got)
			}
		})
	}
}

func TestConfigFromDevice(t *testing.T) {
	d := &wgtypes.Device{
		PrivateKey: key(1), ListenPort: 51820, FirewallMark: 0x10,
		Peers: []wgtypes.Peer{{
			PublicKey:                   key(2),
			Endpoint:                    &net.UDPAddr{IP: net.ParseIP("192.0.2.1"), Port: 5},
			PersistentKeepaliveInterval: 25 * time.Second,
			AllowedIPs:                  []net.IPNet{{IP: net.ParseIP("10.0.0.0"), Mask: net.CIDRMask(8, 32)}, {IP: net.ParseIP("fd00::"), Mask: net.CIDRMask(64, 128)}},
		}, {PublicKey: key(3), Endpoint: &net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 7, Zone: "lo"}}},
	}
	want := "[Interface]\nListenPort = 51820\nFwMark = 0x10\nPrivateKey = " + kB + "\n\n" +
		"[Peer]\nPublicKey = " + kC + "\nAllowedIPs = 10.0.0.0/8, fd00::/64\nEndpoint = 192.0.2.1:5\nPersistentKeepalive = 25\n\n" +
		"[Peer]\nPublicKey = " + kD + "\nEndpoint = [fe80::1%lo]:7\n"
	if diff := cmp.Diff(want, string(config.Showconf(Config(d)))); diff != "" {
		t.Errorf("unexpected showconf (-want +got):\n%s", diff)
	}
}

func TestStrerror(t *testing.T) {
	for err, want := range map[error]string{
		syscall.ENODEV:          "No such device",
		syscall.EPROTONOSUPPORT: "Protocol not supported",
		syscall.ENAMETOOLONG:    "File name too long",
		syscall.EACCES:          "Permission denied",
	} {
		if got := Strerror(err); got != want {
			t.Errorf("Strerror(%v) = %q, want %q", err, got, want)
		}
	}
}

// TestDeviceAttrsOnce: a kernel request carries the device's fields once,
// with its first peer; the rest of the peers follow alone, in order.
func TestDeviceAttrsOnce(t *testing.T) {
	key := wgtypes.Key{1}
	port, mark := 51820, 0x42
	var peers []wgtypes.PeerConfig
	for i := range 5 {
		peers = append(peers, wgtypes.PeerConfig{PublicKey: wgtypes.Key{byte(i + 2)}})
	}
	cfg := wgtypes.Config{PrivateKey: &key, ListenPort: &port, FirewallMark: &mark, ReplacePeers: true, Peers: peers}
	parts := deviceAttrsOnce(cfg)
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2", len(parts))
	}
	if p := parts[0]; p.PrivateKey != &key || p.ListenPort != &port || p.FirewallMark != &mark || !p.ReplacePeers || len(p.Peers) != 1 || p.Peers[0].PublicKey != peers[0].PublicKey {
		t.Errorf("first part %+v", p)
	}
	if p := parts[1]; p.PrivateKey != nil || p.ListenPort != nil || p.FirewallMark != nil || p.ReplacePeers || len(p.Peers) != 4 || p.Peers[0].PublicKey != peers[1].PublicKey || p.Peers[3].PublicKey != peers[4].PublicKey {
		t.Errorf("second part %+v", p)
	}
	if got := deviceAttrsOnce(wgtypes.Config{PrivateKey: &key, Peers: peers[:1]}); len(got) != 1 || got[0].PrivateKey != &key {
		t.Errorf("one peer: %+v", got)
	}
}

// Config carves what its peers point to from shared blocks; each peer must
// still point to its own values, past the blocks' boundaries.
func TestConfigManyPeers(t *testing.T) {
	d, err := parseUAPI(bufio.NewReader(strings.NewReader(uapiReply(2500))))
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Peers {
		if i%2 == 1 {
			d.Peers[i].PresharedKey = wgtypes.Key{byte(i), byte(i >> 8), 1}
		}
	}
	c := Config(d)
	for i, p := range d.Peers {
		cp := &c.Peers[i]
		if (i%2 == 1) != (cp.PresharedKey != nil) || (cp.PresharedKey != nil && *cp.PresharedKey != p.PresharedKey) {
			t.Fatalf("peer %d: preshared key %v, device has %x", i, cp.PresharedKey, p.PresharedKey[:3])
		}
		if cp.Endpoint == nil || cp.Endpoint.String() != p.Endpoint.String() {
			t.Fatalf("peer %d: endpoint %v, device has %s", i, cp.Endpoint, p.Endpoint)
		}
		if len(cp.AllowedIPs) != len(p.AllowedIPs) || cap(cp.AllowedIPs) != len(cp.AllowedIPs) {
			t.Fatalf("peer %d: %d allowed IPs (capacity %d), device has %d", i, len(cp.AllowedIPs), cap(cp.AllowedIPs), len(p.AllowedIPs))
		}
		for j, n := range p.AllowedIPs {
			if cp.AllowedIPs[j].Prefix.String() != n.String() {
				t.Fatalf("peer %d: allowed IP %s, device has %s", i, cp.AllowedIPs[j].Prefix, n.String())
			}
		}
		if *cp.PersistentKeepalive != 25 {
			t.Fatalf("peer %d: keepalive %d", i, *cp.PersistentKeepalive)
		}
	}
	// ConfigPeers yields the same peers, one at a time: each as Config
	// converts it, while it is the current one.
	i := 0
	for p := range ConfigPeers(d) {
		if diff := cmp.Diff(&c.Peers[i], p, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
			t.Fatalf("ConfigPeers' peer %d differs from Config's (-Config +ConfigPeers):\n%s", i, diff)
		}
		i++
	}
	if i != len(c.Peers) {
		t.Fatalf("ConfigPeers yielded %d peers, want %d", i, len(c.Peers))
	}
	// And showconf's text from either is the same.
	var streamed bytes.Buffer
	ifc := Interface(d)
	if err := config.WriteShowconfPeers(&streamed, &ifc, ConfigPeers(d)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(config.Showconf(c)), streamed.String()); diff != "" {
		t.Errorf("showconf from ConfigPeers differs (-Config +ConfigPeers):\n%s", diff)
	}
	*c.Peers[0].PersistentKeepalive = 7
	if *c.Peers[1].PersistentKeepalive != 25 {
		t.Error("two peers share one keepalive value")
	}
}
