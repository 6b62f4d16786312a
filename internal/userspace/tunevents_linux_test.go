package userspace

import (
	"os"
	"slices"
	"sync/atomic"
	"testing"

	"golang.zx2c4.com/wireguard/tun"
)

// eventTUN is a TUN device that only has events.
type eventTUN struct {
	tun.Device
	ev chan tun.Event
}

func (e *eventTUN) Events() <-chan tun.Event { return e.ev }
func (e *eventTUN) File() *os.File           { return nil }

// TestLinkState: the events for a sequence of observations of the link.
func TestLinkState(t *testing.T) {
	type obs struct {
		running bool
		mtu     int
	}
	for _, tc := range []struct {
		name string
		seq  []obs
		want [][]tun.Event
	}{
		{"new link, down", []obs{{false, 1420}}, [][]tun.Event{nil}},
		{"set up", []obs{{false, 1420}, {true, 1420}}, [][]tun.Event{nil, {tun.EventUp}}},
		{"up at first sight", []obs{{true, 1420}}, [][]tun.Event{{tun.EventUp}}},
		{"repeated up", []obs{{true, 1420}, {true, 1420}}, [][]tun.Event{{tun.EventUp}, nil}},
		{"up and down", []obs{{true, 1420}, {false, 1420}, {true, 1420}}, [][]tun.Event{{tun.EventUp}, {tun.EventDown}, {tun.EventUp}}},
		{"MTU changes", []obs{{true, 1420}, {true, 34000}, {true, 34000}, {true, 1420}}, [][]tun.Event{{tun.EventUp}, {tun.EventMTUUpdate}, nil, {tun.EventMTUUpdate}}},
		{"MTU and down at once", []obs{{true, 1420}, {false, 1280}}, [][]tun.Event{{tun.EventUp}, {tun.EventMTUUpdate, tun.EventDown}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s linkState
			for i, o := range tc.seq {
				if got := s.observe(o.running, o.mtu); !slices.Equal(got, tc.want[i]) {
					t.Errorf("observation %d %+v: events %v, want %v", i, o, got, tc.want[i])
				}
			}
		})
	}
}

// TestLinkTUNFallback: where the watcher cannot tell where the link is (a
// TUN without a descriptor stands for a kernel without TUNGETDEVNETNS), the
// library's events pass, EventUp only while the interface runs here; other
// events, alone or combined with a dropped EventUp, always pass, in order,
// and the channel closes with the TUN's.
func TestLinkTUNFallback(t *testing.T) {
	inner := &eventTUN{ev: make(chan tun.Event)}
	var running atomic.Bool
	f := newLinkTUN(inner, t.Logf, running.Load)
	go func() {
		inner.ev <- tun.EventUp                      // dropped: not running
		inner.ev <- tun.EventUp | tun.EventMTUUpdate // the MTU update only
	}()
	if got := <-f.Events(); got != tun.EventMTUUpdate {
		t.Fatalf("first event %v, want only the MTU update", got)
	}
	running.Store(true)
	go func() {
		inner.ev <- tun.EventUp   // passes
		inner.ev <- tun.EventDown // passes
		close(inner.ev)
	}()
	for _, want := range []tun.Event{tun.EventUp, tun.EventDown} {
		if got := <-f.Events(); got != want {
			t.Fatalf("event %v, want %v", got, want)
		}
	}
	if _, ok := <-f.Events(); ok {
		t.Error("events channel still open after the TUN's closed")
	}
}
