// Command genconf prints a wg(8) configuration with many peers, for the
// benchmarks in bench/: genconf -peers N [-change K] [-seed S].
//
// Each peer has a public key, a /32 allowed IP (and every third one a /128
// too), an endpoint and, every fifth, a keepalive. With -change K the K-th
// peer gets a different allowed IP, which is what a syncconf benchmark of
// "one peer changed" needs.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/keys"
)

func main() {
	peers := flag.Int("peers", 1000, "number of peers")
	change := flag.Int("change", -1, "index of a peer whose allowed IP differs")
	seed := flag.Uint64("seed", 1, "random seed (same seed, same keys)")
	flag.Parse()
	r := rand.New(rand.NewPCG(*seed, 0))
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	var k wgtypes.Key
	for i := range k {
		k[i] = byte(r.Uint32())
	}
	fmt.Fprintf(w, "[Interface]\nPrivateKey = %s\nListenPort = 51820\n", keys.Encode(k))
	for i := 0; i < *peers; i++ {
		for j := range k {
			k[j] = byte(r.Uint32())
		}
		third := byte(i & 255)
		if i == *change {
			third ^= 0x80
		}
		fmt.Fprintf(w, "\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.%d/32", keys.Encode(k), 64+(i>>16)&63, (i>>8)&255, third)
		if i%3 == 0 {
			fmt.Fprintf(w, ", fd00::%x:%x/128", i>>16, i&0xffff)
		}
		fmt.Fprintf(w, "\nEndpoint = 192.0.2.%d:%d\n", i&255, 1024+i%50000)
		if i%5 == 0 {
			fmt.Fprintf(w, "PersistentKeepalive = 25\n")
		}
	}
}
