package route

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// LinkState is a link's state as rtnetlink reports it.
type LinkState struct {
	Running bool // IFF_RUNNING
	MTU     int
	// Gone says the link left the namespace: it moved to another, or it
	// was deleted. It is the last state sent.
	Gone bool
}

// WatchLink reports the state of the link name in the network namespace
// open as nsFD (which stays the caller's): first its state now, then each
// change, until the link leaves the namespace (a last state with Gone set)
// or done is closed; then the channel closes. If the subscription fails on
// the way, the channel closes without a Gone state. It subscribes before it
// reads the state, so no change is missed in between. The userspace device
// uses it to follow its link into the namespace it was moved to.
func WatchLink(nsFD int, name string, done <-chan struct{}) (<-chan LinkState, error) {
	ns := netns.NsHandle(nsFD)
	updates := make(chan netlink.LinkUpdate, 16)
	stop := make(chan struct{})
	if err := netlink.LinkSubscribeWithOptions(updates, stop, netlink.LinkSubscribeOptions{Namespace: &ns}); err != nil {
		return nil, fmt.Errorf("watching link %s: %w", name, err)
	}
	// quit closes the subscription and waits for its goroutine.
	quit := func() {
		close(stop)
		for range updates {
		}
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		quit()
		return nil, fmt.Errorf("watching link %s: %w", name, err)
	}
	link, err := h.LinkByName(name)
	h.Close()
	if err != nil {
		quit()
		return nil, fmt.Errorf("watching link %s: %w", name, err)
	}
	attrs := link.Attrs()
	index := int32(attrs.Index)
	out := make(chan LinkState, 1)
	out <- LinkState{Running: attrs.RawFlags&unix.IFF_RUNNING != 0, MTU: attrs.MTU}
	go func() {
		defer close(out)
		defer quit()
		send := func(s LinkState) bool {
			select {
			case out <- s:
				return true
			case <-done:
				return false
			}
		}
		for {
			select {
			case <-done:
				return
			case u, ok := <-updates:
				if !ok {
					// The subscription failed: the channel closes
					// without a Gone state.
					return
				}
				if u.Index != index {
					continue
				}
				if u.Header.Type == unix.RTM_DELLINK {
					send(LinkState{Gone: true})
					return
				}
				if !send(LinkState{Running: u.Flags&unix.IFF_RUNNING != 0, MTU: u.Attrs().MTU}) {
					return
				}
			}
		}
	}()
	return out, nil
}
