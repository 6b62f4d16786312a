package show

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// recordWriter keeps every write, and fails from write number failAt on
// (never when failAt is 0).
type recordWriter struct {
	writes [][]byte
	failAt int
}

func (w *recordWriter) Write(b []byte) (int, error) {
	if w.failAt > 0 && len(w.writes)+1 >= w.failAt {
		w.writes = append(w.writes, nil)
		return 0, errWrite
	}
	w.writes = append(w.writes, bytes.Clone(b))
	return len(b), nil
}

func (w *recordWriter) text() string { return string(bytes.Join(w.writes, nil)) }

// bigDevice has n peers, each with an endpoint, two allowed IPs, a
// preshared key and a keepalive; no handshakes, so pretty output keeps
// device order.
func bigDevice(n int) *wgtypes.Device {
	d := withKey(&wgtypes.Device{Name: "wg0", ListenPort: 51820}, seedKey("big"))
	for i := range n {
		d.Peers = append(d.Peers, wgtypes.Peer{
			PublicKey:                   seedKey(fmt.Sprint("peer", i)),
			PresharedKey:                seedKey(fmt.Sprint("psk", i)),
			Endpoint:                    &net.UDPAddr{IP: net.IPv4(192, 0, 2, byte(i)).To4(), Port: 1024 + i},
			AllowedIPs:                  []net.IPNet{ipNet(fmt.Sprintf("10.%d.%d.0/24", i>>8, i&255)), ipNet(fmt.Sprintf("fd00::%x/128", i))},
			PersistentKeepaliveInterval: 25e9,
			ReceiveBytes:                int64(i) << 20,
		})
	}
	return d
}

// onePeer is d with only its i-th peer.
func onePeer(d *wgtypes.Device, i int) *wgtypes.Device {
	c := *d
	c.Peers = d.Peers[i : i+1]
	return &c
}

// Output of many peers is written in pieces of bounded size, and the pieces
// are exactly what the peers print one by one: streaming changes no byte.
func TestLargeOutputStreams(t *testing.T) {
	const n = 3000
	d := bigDevice(n)
	render := map[string]func(w *recordWriter, d *wgtypes.Device) error{
		"dump": func(w *recordWriter, d *wgtypes.Device) error { return Field(w, d, "dump", true) },
		"pretty": func(w *recordWriter, d *wgtypes.Device) error {
			return Pretty(w, d, Options{HideKeys: true, Now: goldenNow})
		},
	}
	for name, run := range render {
		t.Run(name, func(t *testing.T) {
			var w recordWriter
			if err := run(&w, d); err != nil {
				t.Fatal(err)
			}
			if len(w.writes) < 10 {
				t.Errorf("%d writes for %d peers: not streamed", len(w.writes), n)
			}
			for i, b := range w.writes {
				if len(b) > flushAt+4096 {
					t.Errorf("write %d is %d bytes, more than %d", i, len(b), flushAt+4096)
				}
			}
			// The oracle: each peer rendered alone.
			var want strings.Builder
			for i := range n {
				var one recordWriter
				if err := run(&one, onePeer(d, i)); err != nil {
					t.Fatal(err)
				}
				text := one.text()
				if name == "dump" {
					// the interface line once, then each peer's line
					head, peer, _ := strings.Cut(text, "\n")
					if i == 0 {
						want.WriteString(head + "\n")
					}
					want.WriteString(peer)
					continue
				}
				// the interface block once, then peer blocks separated
				// by blank lines
				head, peer, _ := strings.Cut(text, "\n\n")
				if i == 0 {
					want.WriteString(head + "\n\n")
				} else {
					want.WriteString("\n")
				}
				want.WriteString(peer)
			}
			if got := w.text(); got != want.String() {
				t.Errorf("streamed output differs from the peers printed one by one (%d bytes against %d)", len(got), want.Len())
			}
		})
	}
}

// A write that fails ends the output: the error is returned and nothing is
// written after it.
func TestLargeOutputWriteError(t *testing.T) {
	d := bigDevice(3000)
	for name, run := range map[string]func(w *recordWriter) error{
		"dump":   func(w *recordWriter) error { return Field(w, d, "dump", false) },
		"pretty": func(w *recordWriter) error { return Pretty(w, d, Options{}) },
	} {
		t.Run(name, func(t *testing.T) {
			w := recordWriter{failAt: 2}
			if err := run(&w); !errors.Is(err, errWrite) {
				t.Errorf("error = %v, want one wrapping %v", err, errWrite)
			}
			if len(w.writes) != 2 {
				t.Errorf("%d writes, want 2 (one that worked, the one that failed)", len(w.writes))
			}
		})
	}
}
