package userspace

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wgtools/wgtools/internal/route"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/tun"
)

// linkTUN is the TUN device as the wireguard-go device sees it: the
// library's, with the link's state (up or down, and its MTU) reported from
// whichever network namespace the link is in, rather than by the library.
//
// The library learns the state in two ways, both wrong for us:
//
//   - From rtnetlink in the namespace the device was created in. A link
//     moved to another namespace (`ip link set wg0 netns B`, the
//     container setup of wireguard.com/netns, whose UDP socket stays
//     behind) is set up there, where the library never looks, so the
//     device never came up and carried no traffic. Its MTU() also asks the
//     home namespace, by name.
//   - From a probe that writes zero bytes to the TUN and takes EINVAL for
//     up and EIO for down. With IFF_VNET_HDR, which the offloads turn on,
//     the kernel rejects the short write with EINVAL before it looks at
//     the link, so the probe reports a new, down interface as up: the
//     device then opens its sockets and starts each peer as it is
//     configured, building a handshake initiation for every peer with a
//     persistent keepalive (twice the work of configuring 1,000 such
//     peers), and sends packets before `up` has put addresses and routes
//     in place. (Stock wireguard-go lives with this, and it is also why a
//     moved link works there: the device is "up" from the start.)
//
// So linkTUN asks the kernel where the link is (TUNGETDEVNETNS on the TUN
// descriptor, Linux 5.2 and later), follows its rtnetlink messages in that
// namespace, and follows it again when it moves on (an RTM_DELLINK there).
// The library's own events are then dropped. Where the kernel cannot say
// (older kernels, or no CAP_NET_ADMIN over the link's namespace), linkTUN
// falls back to passing the library's events, EventUp only while the link
// runs in the home namespace.
type linkTUN struct {
	tun.Device
	file   *os.File // the TUN queue; nil for fakes
	logf   func(string, ...any)
	events chan tun.Event
	stop   chan struct{}
	// mtu is the link's MTU as last seen by the watcher; 0 until then.
	mtu atomic.Int64
	// fallback is set once the watcher cannot follow the link.
	fallback atomic.Bool
	// homeRunning says whether the link runs in this namespace, for the
	// fallback.
	homeRunning func() bool
	watcher     sync.WaitGroup
}

// watchLink wraps dev. The device's events channel closes once dev's does
// (the device is closing) and the watcher has stopped.
func watchLink(dev tun.Device, logf func(string, ...any)) *linkTUN {
	return newLinkTUN(dev, logf, func() bool { return homeLinkRunning(dev) })
}

func newLinkTUN(dev tun.Device, logf func(string, ...any), homeRunning func() bool) *linkTUN {
	t := &linkTUN{Device: dev, file: dev.File(), logf: logf, homeRunning: homeRunning, events: make(chan tun.Event, 10), stop: make(chan struct{})}
	// The first look decides, before any event, whether the watcher or the
	// library reports the state.
	ns, name, err := t.where()
	if err != nil && !closedTUN(err) {
		t.logf("Cannot follow the link across network namespaces (%v); reporting its state from this namespace only", err)
		t.fallback.Store(true)
	} else {
		t.watcher.Add(1)
		go func() {
			defer t.watcher.Done()
			t.watch(ns, name, err)
		}()
	}
	go func() {
		for ev := range dev.Events() {
			if !t.fallback.Load() {
				continue
			}
			if ev&tun.EventUp != 0 && !t.homeRunning() {
				if ev &^= tun.EventUp; ev == 0 {
					continue
				}
			}
			t.send(ev)
		}
		close(t.stop)
		t.watcher.Wait()
		close(t.events)
	}()
	return t
}

// Events returns the events for the device.
func (t *linkTUN) Events() <-chan tun.Event { return t.events }

// MTU returns the link's MTU as the watcher last saw it, wherever the link
// is; before that, or in the fallback, the library's answer.
func (t *linkTUN) MTU() (int, error) {
	if m := t.mtu.Load(); m > 0 && !t.fallback.Load() {
		return int(m), nil
	}
	return t.Device.MTU()
}

// send passes ev to the device unless the device is closing.
func (t *linkTUN) send(ev tun.Event) bool {
	select {
	case t.events <- ev:
		return true
	case <-t.stop:
		return false
	}
}

// watch follows the link from namespace to namespace until the device
// closes, starting from where's first answer.
func (t *linkTUN) watch(ns int, name string, err error) {
	var state linkState
	fails := 0
	for {
		switch {
		case closedTUN(err):
			return
		case err != nil:
			// Followed it so far, and lost it: report from here.
			t.logf("Cannot follow the link across network namespaces any more (%v); reporting its state from this namespace only", err)
			t.fallback.Store(true)
			if t.homeRunning() && !state.up {
				t.send(tun.EventUp)
			}
			return
		}
		more, ferr := t.follow(ns, name, &state)
		unix.Close(ns)
		if !more {
			return
		}
		// A link in flight is found again within a few tries; one that
		// cannot be watched at all (no netlink in its namespace) must not
		// keep the watcher retrying for the device's life.
		if fails++; ferr == nil {
			fails = 0
		} else if fails >= maxFollowFailures {
			err = ferr
			continue
		}
		ns, name, err = t.where()
	}
}

// maxFollowFailures is how many times in a row (20 ms apart) the watcher
// tries to watch the link before it falls back.
const maxFollowFailures = 50

// closedTUN says whether err, from where, means the TUN is closed or its
// link deleted: the device is closing.
func closedTUN(err error) bool {
	return errors.Is(err, unix.EBADF) || errors.Is(err, unix.EBADFD) || errors.Is(err, os.ErrClosed)
}

// where returns the network namespace the link is in now (a descriptor to
// close) and its name there.
func (t *linkTUN) where() (int, string, error) {
	if t.file == nil {
		return -1, "", errors.ErrUnsupported
	}
	sc, err := t.file.SyscallConn()
	if err != nil {
		return -1, "", err
	}
	nsfd, name := -1, ""
	var ioErr error
	err = sc.Control(func(fd uintptr) {
		if nsfd, ioErr = unix.IoctlRetInt(int(fd), unix.TUNGETDEVNETNS); ioErr != nil {
			return
		}
		var ifr *unix.Ifreq
		if ifr, ioErr = unix.NewIfreq(""); ioErr != nil {
			return
		}
		if ioErr = unix.IoctlIfreq(int(fd), unix.TUNGETIFF, ifr); ioErr == nil {
			name = ifr.Name()
		}
	})
	if err == nil {
		err = ioErr
	}
	if err != nil {
		if nsfd >= 0 {
			unix.Close(nsfd)
		}
		return -1, "", err
	}
	return nsfd, name, nil
}

// follow reports the state of the link name in the namespace nsfd until
// it leaves that namespace (true: look for it again) or the device closes
// (false). The error says the link could not be watched there: it moved
// on, or was renamed, since where looked, or the namespace refuses.
func (t *linkTUN) follow(nsfd int, name string, state *linkState) (bool, error) {
	done := make(chan struct{})
	defer close(done)
	states, err := route.WatchLink(nsfd, name, done)
	if err != nil {
		return t.pause(), err
	}
	for {
		select {
		case <-t.stop:
			return false, nil
		case s, ok := <-states:
			if !ok {
				return t.pause(), errors.New("watching the link: the rtnetlink subscription failed")
			}
			if s.Gone {
				// Moved to another namespace, or deleted (then the
				// device is closing and where says so).
				return true, nil
			}
			if !t.observe(state, s.Running, s.MTU) {
				return false, nil
			}
		}
	}
}

// observe records the link's MTU and sends the device the events for its
// new state; false if the device is closing.
func (t *linkTUN) observe(state *linkState, running bool, mtu int) bool {
	t.mtu.Store(int64(mtu))
	for _, ev := range state.observe(running, mtu) {
		if !t.send(ev) {
			return false
		}
	}
	return true
}

// pause waits a little before the watcher looks for the link again; false
// if the device closes meanwhile.
func (t *linkTUN) pause() bool {
	select {
	case <-t.stop:
		return false
	case <-time.After(20 * time.Millisecond):
		return true
	}
}

// linkState turns what the link looks like into the device's events.
type linkState struct {
	seen bool
	up   bool
	mtu  int
}

// observe returns the events for the link's new state: EventUp when it
// starts running, EventDown when it stops (never before the first
// EventUp, as the library does), and EventMTUUpdate when its MTU changed
// since the last observation (the device read the first one itself).
func (s *linkState) observe(running bool, mtu int) []tun.Event {
	var evs []tun.Event
	if s.seen && mtu != s.mtu {
		evs = append(evs, tun.EventMTUUpdate)
	}
	s.seen, s.mtu = true, mtu
	if running != s.up {
		s.up = running
		if running {
			evs = append(evs, tun.EventUp)
		} else {
			evs = append(evs, tun.EventDown)
		}
	}
	return evs
}

// homeLinkRunning reports whether dev's link runs (IFF_RUNNING) in this
// process's namespace; if that cannot be told, it says yes, leaving the
// library's view alone.
func homeLinkRunning(dev tun.Device) bool {
	name, err := dev.Name()
	if err != nil {
		return true
	}
	ifi, err := net.InterfaceByName(name)
	return err != nil || ifi.Flags&net.FlagRunning != 0
}
