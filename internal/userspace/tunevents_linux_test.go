package userspace

import (
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

// TestUpFilter: EventUp reaches the device only while the interface runs;
// other events, alone or combined with a dropped EventUp, always pass, in
// order, and the channel closes with the TUN's.
func TestUpFilter(t *testing.T) {
	inner := &eventTUN{ev: make(chan tun.Event)}
	var running atomic.Bool
	f := filterUp(inner, running.Load)
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
