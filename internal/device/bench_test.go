package device

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/wgtools/wgtools/internal/config"
)

// uapiReply builds a `get` reply of n peers, shaped like a hub's.
func uapiReply(n int) string {
	var b strings.Builder
	b.WriteString("private_key=" + hexKey(1) + "\nlisten_port=51820\n")
	for i := 0; i < n; i++ {
		var k [32]byte
		k[0], k[1], k[2] = byte(i), byte(i>>8), byte(i>>16)
		fmt.Fprintf(&b, "public_key=%x\nprotocol_version=1\nendpoint=192.0.2.%d:%d\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=25\nallowed_ip=10.%d.%d.0/24\nallowed_ip=fd00::%x/128\n",
			k, i&255, 1024+i%50000, (i>>8)&255, i&255, i)
	}
	b.WriteString("errno=0\n\n")
	return b.String()
}

// BenchmarkGetShowconf is `wg showconf` minus the socket: parse a reply,
// convert, format.
func BenchmarkGetShowconf(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		reply := uapiReply(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d, err := parseUAPI(bufio.NewReaderSize(strings.NewReader(reply), 64<<10))
				if err != nil {
					b.Fatal(err)
				}
				var out bytes.Buffer
				ifc := Interface(d)
				if err := config.WriteShowconfPeers(&out, &ifc, ConfigPeers(d)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSyncConfig is syncconf's work between reading the device and
// sending: pairing the file's peers with the device's and finding the one
// peer (of n) whose allowed IPs changed.
func BenchmarkSyncConfig(b *testing.B) {
	for _, n := range []int{2000, 10000} {
		d, err := parseUAPI(bufio.NewReader(strings.NewReader(uapiReply(n))))
		if err != nil {
			b.Fatal(err)
		}
		text := strings.Replace(string(config.Showconf(Config(d))), "10.0.7.0/24", "10.99.0.0/24", 1)
		file, err := config.ParseWG([]byte(text), config.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, err := SyncConfig(file, d)
				if err != nil || len(req.Peers) != 1 {
					b.Fatalf("%d peers sent (%v), want 1", len(req.Peers), err)
				}
			}
		})
	}
}

// BenchmarkParseUAPI is the reading half of every `wg show`: its bytes per
// peer are most of the process's peak memory.
func BenchmarkParseUAPI(b *testing.B) {
	for _, n := range []int{2000, 10000} {
		reply := uapiReply(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parseUAPI(bufio.NewReaderSize(strings.NewReader(reply), 64<<10)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
