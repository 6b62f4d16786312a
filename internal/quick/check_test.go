package quick

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"github.com/wgtools/wgtools/internal/config"
)

// TestCheckFirewall: a full tunnel with Table auto needs a firewall; when
// there is none, check reports up's error at the first peer routing
// everything. Split tunnels, Table = off and an unknown answer (nil, as
// without root) say nothing.
func TestCheckFirewall(t *testing.T) {
	none := func() error { return errors.New("no firewall for the full-tunnel rules") }
	const key = "PrivateKey = eGvwC0w/iSf++8d3zGyAxieGhkOVC6HS9CM+5ht1kns=\n"
	const peer = "[Peer]\nPublicKey = rH88fXnB0eX4gld6mGOlPI0uEQWNrr4nkzuqOl9fklY=\n"
	for _, tt := range []struct {
		name string
		conf string
		have func() error
		want string
	}{
		{"full tunnel", "[Interface]\n" + key + "\n[Peer]\nPublicKey = Ymg+XMu0cfu55nf/7AGCpcmSuKUr6BKbYDRVMiOJ2l4=\nAllowedIPs = 10.1.0.0/24\n\n" + peer + "AllowedIPs = 0.0.0.0/0, ::/0\n", none, "wg0.conf:8: error: no firewall for the full-tunnel rules"},
		{"split tunnel", "[Interface]\n" + key + peer + "AllowedIPs = 10.1.0.0/24\n", none, ""},
		{"table off", "[Interface]\n" + key + "Table = off\n" + peer + "AllowedIPs = 0.0.0.0/0\n", none, ""},
		{"not known", "[Interface]\n" + key + peer + "AllowedIPs = ::/0\n", nil, ""},
		{"available", "[Interface]\n" + key + peer + "AllowedIPs = ::/0\n", func() error { return nil }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var errs []string
			for _, f := range Check(context.Background(), "wg0.conf", []byte(tt.conf), CheckEnv{HaveFirewall: tt.have}) {
				if f.Severity == "error" {
					errs = append(errs, f.String())
				}
			}
			got := strings.Join(errs, "\n")
			if got != tt.want {
				t.Errorf("errors %q, want %q", got, tt.want)
			}
		})
	}
}

// checkConfig is a file of n peers with random keys whose AllowedIPs are
// random prefixes of 10.0.0.0/8 and fd00::/16 (seeded: the same file every
// run): of random lengths when nested, so that some nest in others, else
// /32 and /128, as a hub's peers have.
func checkConfig(n int, seed uint64, nested bool) []byte {
	r := rand.New(rand.NewPCG(seed, 0))
	var b strings.Builder
	b.WriteString("[Interface]\nPrivateKey = eGvwC0w/iSf++8d3zGyAxieGhkOVC6HS9CM+5ht1kns=\n")
	for range n {
		var k [32]byte
		for i := range k {
			k[i] = byte(r.Uint32())
		}
		bits4, bits6 := 32, 128
		if nested {
			bits4, bits6 = 8+r.IntN(25), 16+r.IntN(113)
		}
		v4 := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}), bits4).Masked()
		var a16 [16]byte
		a16[0], a16[1] = 0xfd, 0
		for i := 2; i < 16; i++ {
			a16[i] = byte(r.Uint32())
		}
		v6 := netip.PrefixFrom(netip.AddrFrom16(a16), bits6).Masked()
		fmt.Fprintf(&b, "\n[Peer]\nPublicKey = %s\nAllowedIPs = %s, %s\n", base64.StdEncoding.EncodeToString(k[:]), v4, v6)
	}
	return []byte(b.String())
}

// TestCheckOverlapsAsBruteForce: the sorted scan reports exactly the
// overlaps a comparison of every pair finds.
func TestCheckOverlapsAsBruteForce(t *testing.T) {
	for seed := range uint64(20) {
		data := checkConfig(300, seed, true)
		cfg, err := config.ParseQuick(data, config.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// Brute force: every pair of the prefixes held (a prefix given to
		// several peers belongs to the last), /0s left out, of different
		// peers.
		owner := map[netip.Prefix]int{}
		for _, p := range cfg.Peers {
			for _, a := range p.AllowedIPs {
				owner[a.Prefix.Masked()] = p.Line
			}
		}
		var held []netip.Prefix
		for p := range owner {
			held = append(held, p)
		}
		want := 0
		for i := range held {
			for j := i + 1; j < len(held); j++ {
				a, b := held[i], held[j]
				if a.Bits() != 0 && b.Bits() != 0 && owner[a] != owner[b] && a.Overlaps(b) {
					want++
				}
			}
		}
		got := 0
		for _, f := range Check(context.Background(), "wg0.conf", data, CheckEnv{}) {
			if strings.Contains(f.Message, "overlap") {
				got++
			}
		}
		if got != want || (seed == 0 && want == 0) {
			t.Errorf("seed %d: %d overlap warnings, want %d", seed, got, want)
		}
	}
}

// BenchmarkCheck: check of 8,000 and 100,000 peers (random nested
// prefixes, no resolver), which must stay O(n log n).
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{8000, 100000} {
		data := checkConfig(n, 1, false)
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			for b.Loop() {
				Check(context.Background(), "wg0.conf", data, CheckEnv{})
			}
		})
	}
}

// TestCheckMemoryBounded: check, which reads the file more than once,
// allocates a small multiple of it however it is made: 8 MiB of blank
// lines made it list 8 million lines (24 bytes each, 200 times the file
// with the list's regrowth) before it used config.Directives.
func TestCheckMemoryBounded(t *testing.T) {
	for _, tc := range []struct{ name, unit string }{
		{"blank lines", "\n"},
		{"directives", "[Interface]\nTable = off\n"},
		{"minimal peers", "[Peer]\nPublicKey = rH88fXnB0eX4gld6mGOlPI0uEQWNrr4nkzuqOl9fklY=\n"},
	} {
		data := bytes.Repeat([]byte(tc.unit), (8<<20)/len(tc.unit))
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		Check(context.Background(), "wg0.conf", data, CheckEnv{})
		runtime.ReadMemStats(&after)
		ratio := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(data))
		t.Logf("%s: %.1f× the input", tc.name, ratio)
		if ratio > 40 {
			t.Errorf("%s: check allocated %.1f× the input's %d bytes, want at most 40×", tc.name, ratio, len(data))
		}
	}
}
