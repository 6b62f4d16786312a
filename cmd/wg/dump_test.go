package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/keys"
	"github.com/wgtools/wgtools/internal/nettest"
)

// TestLargeDevicesAgainstReference fills twin devices with the reference
// wg and with ours from the same files and compares every show form,
// showconf and the devices' state. On kernel devices a dump this size spans
// many netlink messages (one peer's allowed IPs continue across messages;
// peers without allowed IPs share one), so this is where a reader that
// stitches messages wrongly shows; on wireguard-go devices (one UAPI
// answer, no messages) the sizes are smaller to keep the native run short.
func TestLargeDevicesAgainstReference(t *testing.T) {
	peers, allowed := 1000, 10000
	if nettest.KernelDevices() {
		peers, allowed = 10000, 100000
	}
	priv, pub := genKeys(t, 32)
	cases := []struct {
		name string
		conf func() string
	}{{
		name: fmt.Sprintf("%d peers", peers),
		conf: func() string {
			var b strings.Builder
			fmt.Fprintf(&b, "[Interface]\nPrivateKey = %s\nListenPort = 51820\nFwMark = 0x42\n", priv[0])
			for i := range peers {
				// Keys derived from the index: generating 10,000 real
				// ones would be slow and they need not be valid points.
				fmt.Fprintf(&b, "[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.0/24, fd00:%x::/64\n", indexKey(i), i/256, i%256, i)
				switch i % 3 {
				case 0:
					fmt.Fprintf(&b, "Endpoint = 192.0.2.%d:%d\n", i%250+1, 1024+i)
				case 1:
					fmt.Fprintf(&b, "Endpoint = [2001:db8::%x]:%d\nPersistentKeepalive = 25\n", i, 1024+i)
				}
			}
			return b.String()
		},
	}, {
		name: fmt.Sprintf("one peer with %d allowed IPs", allowed),
		conf: func() string {
			var b strings.Builder
			fmt.Fprintf(&b, "[Interface]\nPrivateKey = %s\nListenPort = 51820\n[Peer]\nPublicKey = %s\nEndpoint = 192.0.2.1:51820\n", priv[0], pub[1])
			for i := range allowed {
				if i%2 == 0 {
					fmt.Fprintf(&b, "AllowedIPs = 10.%d.%d.%d/32\n", i>>16, (i>>8)&255, i&255)
				} else {
					fmt.Fprintf(&b, "AllowedIPs = fd00::%x:%x/128\n", i>>16, i&0xffff)
				}
			}
			return b.String()
		},
	}, {
		name: "30 peers without allowed IPs, the last with two",
		conf: func() string {
			var b strings.Builder
			fmt.Fprintf(&b, "[Interface]\nPrivateKey = %s\nListenPort = 51820\n", priv[0])
			for i := 1; i <= 30; i++ {
				fmt.Fprintf(&b, "[Peer]\nPublicKey = %s\n", pub[i])
			}
			b.WriteString("AllowedIPs = 10.0.0.1/32, fd00::1/128\n")
			return b.String()
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tw := newTwins(t)
			conf := tw.file(t, "large.conf", tc.conf())
			start := time.Now()
			tw.apply(t, "setconf", "IF", conf)
			t.Logf("setconf on both: %v", time.Since(start))
			start = time.Now()
			tw.same(t)
			t.Logf("state of both: %v", time.Since(start))
			start = time.Now()
			// Both tools read the device the reference configured.
			for _, form := range [][]string{
				{"show", "IF", "dump"}, {"show", "IF"}, {"showconf", "IF"},
				{"show", "IF", "allowed-ips"}, {"show", "IF", "endpoints"}, {"show", "IF", "peers"},
				{"show", "all", "dump"},
			} {
				args := make([]string, len(form))
				for i, a := range form {
					args[i] = strings.ReplaceAll(a, "IF", tw.ref)
				}
				want, got := tw.refAt.ref(t, "", args...), tw.refAt.ours(t, "", args...)
				if !nettest.KernelDevices() {
					// wireguard-go lists peers in random order.
					want.Stdout, got.Stdout = canonical(args, want.Stdout), canonical(args, got.Stdout)
				}
				if form[1] == "all" {
					want.Stdout, got.Stdout = strings.Join(ours(want.Stdout, tw.ref), "\n"), strings.Join(ours(got.Stdout, tw.ref), "\n")
				}
				if want != got {
					t.Errorf("wg %q on %s differs (-reference +ours):\n%s", form, tc.name, cmp.Diff(want, got))
				}
			}
			t.Logf("show forms: %v", time.Since(start))
			start = time.Now()
			// syncconf to the same file changes nothing, with both.
			tw.apply(t, "syncconf", "IF", conf)
			tw.same(t)
			t.Logf("syncconf and state: %v", time.Since(start))
		})
	}
}

// indexKey is a base64 key made from i, distinct for every i.
func indexKey(i int) string {
	var k wgtypes.Key
	k[0], k[1], k[2], k[31] = byte(i), byte(i>>8), byte(i>>16), 0x42
	return keys.Encode(k)
}
