package config

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"github.com/wgtools/wgtools/internal/keys"
)

// bigConfig builds a wg-quick file with n peers, each with a key, a PSK, two
// allowed IPs, an endpoint and a keepalive: the shape of a hub's config.
func bigConfig(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	buf.WriteString("[Interface]\nAddress = 10.0.0.1/16, fd00::1/64\nListenPort = 51820\nPrivateKey = " + priv1 + "\nPostUp = echo up %i\n")
	writePeers(&buf, n)
	return buf.Bytes()
}

// bigWGConfig is bigConfig as wg(8) reads it, without wg-quick's keys.
func bigWGConfig(n int) []byte {
	var buf bytes.Buffer
	buf.WriteString("[Interface]\nListenPort = 51820\nPrivateKey = " + priv1 + "\n")
	writePeers(&buf, n)
	return buf.Bytes()
}

func writePeers(buf *bytes.Buffer, n int) {
	for i := 0; i < n; i++ {
		var k [32]byte
		k[0], k[1], k[2] = byte(i), byte(i>>8), byte(i>>16)
		fmt.Fprintf(buf, "\n[Peer]\n# peer %d\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = 10.%d.%d.0/24, fd00:%x:%x::/64\nEndpoint = 192.0.2.%d:%d\nPersistentKeepalive = 25\n",
			i, keys.Encode(k), psk1, (i>>8)&255, i&255, i>>16, i&0xffff, i&255, 1024+i%60000)
	}
}

// BenchmarkParseWG is the parse of `wg setconf` and `wg syncconf`.
func BenchmarkParseWG(b *testing.B) {
	for _, n := range []int{2000, 10000} {
		data := bigWGConfig(n)
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				c, err := ParseWG(data, Options{})
				if err != nil || len(c.Peers) != n {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseQuick parses configs of 1k, 10k and 100k peers; ns/op
// should grow linearly.
func BenchmarkParseQuick(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		data := bigConfig(b, n)
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				c, err := ParseQuick(data, Options{})
				if err != nil || len(c.Peers) != n {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkShowconf formats a 10k-peer config.
func BenchmarkShowconf(b *testing.B) {
	c, err := ParseQuick(bigConfig(b, 10000), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Showconf(c)
	}
}

// BenchmarkEdit is save's edit of a hub's file: with nothing to change,
// and with one peer's endpoint roamed. ns/op should grow linearly.
func BenchmarkEdit(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		data := bigConfig(b, n)
		c, err := ParseQuick(data, Options{})
		if err != nil {
			b.Fatal(err)
		}
		roamed := *c
		roamed.Peers = append([]Peer(nil), c.Peers...)
		roamed.Peers[n/2].Endpoint = &Endpoint{Host: "203.0.113.9", Port: 9, Addr: netip.MustParseAddr("203.0.113.9")}
		for name, live := range map[string]*Config{"same": c, "roamed": &roamed} {
			b.Run(fmt.Sprintf("peers=%d/%s", n, name), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Edit(data, live, EditOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
