package userspace

import (
	"net"

	"golang.zx2c4.com/wireguard/tun"
)

// upFilter passes a TUN device's events on, except EventUp while the
// interface is not running.
//
// wireguard-go learns the link state from rtnetlink, which is right, and
// from a probe that writes zero bytes to the TUN and takes EINVAL for up
// and EIO for down. With IFF_VNET_HDR, which the offloads turn on, the
// kernel rejects the short write with EINVAL before it looks at the link,
// so the probe reports a new, down interface as up. The device then opens
// its sockets and starts each peer as it is configured, building a
// handshake initiation for every peer with a persistent keepalive: twice
// the work of configuring 1,000 such peers, and packets sent before `up`
// has put addresses and routes in place. rtnetlink reports the real up
// when the link is set up, and that EventUp passes.
type upFilter struct {
	tun.Device
	events chan tun.Event
}

// filterUp wraps dev; running reports whether the interface is running
// (IFF_RUNNING).
func filterUp(dev tun.Device, running func() bool) *upFilter {
	f := &upFilter{Device: dev, events: make(chan tun.Event, 10)}
	go func() {
		defer close(f.events)
		for ev := range dev.Events() {
			if ev&tun.EventUp != 0 && !running() {
				if ev &^= tun.EventUp; ev == 0 {
					continue
				}
			}
			f.events <- ev
		}
	}()
	return f
}

// Events returns the filtered events.
func (f *upFilter) Events() <-chan tun.Event { return f.events }

// linkRunning reports whether the interface name is running; if that
// cannot be told, it says yes, leaving wireguard-go's view alone.
func linkRunning(name string) func() bool {
	return func() bool {
		ifi, err := net.InterfaceByName(name)
		return err != nil || ifi.Flags&net.FlagRunning != 0
	}
}
