package device

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/keys"
)

func hexKey(b byte) string { return keys.EncodeHex(key(b)) }

func TestParseUAPI(t *testing.T) {
	reply := "private_key=" + hexKey(1) + "\nlisten_port=51820\nfwmark=51820\n" +
		"public_key=" + hexKey(2) + "\npreshared_key=" + hexKey(3) + "\nprotocol_version=1\n" +
		"endpoint=192.0.2.1:5\nlast_handshake_time_sec=1700000000\nlast_handshake_time_nsec=0\n" +
		"tx_bytes=10\nrx_bytes=20\npersistent_keepalive_interval=25\nallowed_ip=10.0.0.0/8\nallowed_ip=::ffff:10.0.0.0/104\n" +
		"public_key=" + hexKey(4) + "\nendpoint=[fe80::1%lo]:7\nendpoint=[::ffff:1.2.3.4]:9\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\nsomething_new=1\n" +
		"errno=0\n\n"
	d, err := parseUAPI(bufio.NewReader(strings.NewReader(reply)))
	if err != nil {
		t.Fatal(err)
	}
	want := &wgtypes.Device{
		PrivateKey: key(1), PublicKey: keys.Public(key(1)), ListenPort: 51820, FirewallMark: 51820,
		Peers: []wgtypes.Peer{{
			PublicKey: key(2), PresharedKey: key(3), ProtocolVersion: 1,
			Endpoint: &net.UDPAddr{IP: net.IP{192, 0, 2, 1}, Port: 5},
			// wgctrl would drop a handshake whose nanoseconds are 0.
			LastHandshakeTime: time.Unix(1700000000, 0), TransmitBytes: 10, ReceiveBytes: 20,
			PersistentKeepaliveInterval: 25 * time.Second,
			AllowedIPs: []net.IPNet{{IP: net.IP{10, 0, 0, 0}, Mask: net.CIDRMask(8, 32)},
				{IP: net.ParseIP("::ffff:10.0.0.0"), Mask: net.CIDRMask(104, 128)}},
		}, {
			PublicKey: key(4),
			// IPv4-mapped stays IPv6: 16 bytes.
			Endpoint: &net.UDPAddr{IP: net.ParseIP("::ffff:1.2.3.4"), Port: 9},
		}},
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("unexpected device (-want +got):\n%s", diff)
	}
}

func TestParseUAPIErrors(t *testing.T) {
	for name, tt := range map[string]struct {
		in   string
		want syscall.Errno
	}{
		"device errno":   {"errno=19\n\n", syscall.ENODEV},
		"no errno":       {"listen_port=1\n\n", syscall.EPROTO},
		"truncated":      {"listen_port=1\n", syscall.EPROTO},
		"no equals":      {"listen_port\nerrno=0\n\n", syscall.EPROTO},
		"bad key":        {"private_key=zz\nerrno=0\n\n", syscall.EPROTO},
		"bad port":       {"listen_port=70000\nerrno=0\n\n", syscall.EPROTO},
		"bad allowed ip": {"public_key=" + hexKey(1) + "\nallowed_ip=10.0.0.0/33\nerrno=0\n\n", syscall.EPROTO},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseUAPI(bufio.NewReader(strings.NewReader(tt.in)))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// FuzzParseUAPI: any reply parses or fails with an errno, never panics, and
// a parsed device's peers each have a key.
func FuzzParseUAPI(f *testing.F) {
	f.Add("private_key=" + hexKey(1) + "\npublic_key=" + hexKey(2) + "\nendpoint=[::1]:5\nallowed_ip=10.0.0.0/8\nerrno=0\n\n")
	f.Add("errno=0\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		d, err := parseUAPI(bufio.NewReader(strings.NewReader(in)))
		if err != nil {
			var errno syscall.Errno
			if !errors.As(err, &errno) {
				t.Fatalf("error without errno: %v", err)
			}
			return
		}
		for _, p := range d.Peers {
			for _, n := range p.AllowedIPs {
				if _, ok := Prefix(n); !ok {
					t.Fatalf("unconvertible allowed IP %v", n)
				}
			}
		}
	})
}

// A reply of many peers crosses the blocks parseUAPI carves peers, allowed
// IPs and endpoints from: every peer must still get its own.
func TestParseUAPIManyPeers(t *testing.T) {
	const n = 3000
	d, err := parseUAPI(bufio.NewReader(strings.NewReader(uapiReply(n))))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Peers) != n {
		t.Fatalf("%d peers, want %d", len(d.Peers), n)
	}
	for i, p := range d.Peers {
		if p.PublicKey[0] != byte(i) || p.PublicKey[1] != byte(i>>8) {
			t.Fatalf("peer %d has key %x", i, p.PublicKey[:2])
		}
		want := fmt.Sprintf("10.%d.%d.0/24 %s", (i>>8)&255, i&255, netip.MustParsePrefix(fmt.Sprintf("fd00::%x/128", i)))
		var ips []string
		for _, n := range p.AllowedIPs {
			ips = append(ips, n.String())
		}
		if got := strings.Join(ips, " "); got != want {
			t.Fatalf("peer %d: allowed IPs %s, want %s", i, got, want)
		}
		if got, want := p.Endpoint.String(), fmt.Sprintf("192.0.2.%d:%d", i&255, 1024+i%50000); got != want {
			t.Fatalf("peer %d: endpoint %s, want %s", i, got, want)
		}
		if cap(p.AllowedIPs) != len(p.AllowedIPs) {
			t.Fatalf("peer %d: allowed IPs have spare capacity %d: an append would write into the next peer's", i, cap(p.AllowedIPs))
		}
	}
}
