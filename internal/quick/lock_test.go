package quick

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgtools/wgtools/internal/config"
)

// TestLockExclusiveAndRemoved: lockers of one interface never overlap,
// although every unlock removes the lock file (and the namespace's
// directory with it), and nothing is left once all are done.
func TestLockExclusiveAndRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "netns-7")
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				unlock, err := lock(context.Background(), dir, "wg0")
				if err != nil {
					errs <- err
					return
				}
				n := inside.Add(1)
				if n > maxInside.Load() {
					maxInside.Store(n)
				}
				runtime.Gosched()
				inside.Add(-1)
				unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if m := maxInside.Load(); m != 1 {
		t.Errorf("%d lockers inside at once", m)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("namespace directory left: %v", err)
	}
}

// TestLockKeepsSharedDirectory: the unlock of one interface leaves the
// directory while another's journal is in it, and never removes StateDir
// itself (only netns-* directories).
func TestLockKeepsSharedDirectory(t *testing.T) {
	for _, base := range []string{"netns-8", "wgtools"} {
		dir := filepath.Join(t.TempDir(), base)
		unlock, err := lock(context.Background(), dir, "wg0")
		if err != nil {
			t.Fatal(err)
		}
		if base == "netns-8" {
			if err := os.WriteFile(journalPath(dir, "wg1"), []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		unlock()
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s: directory removed: %v", base, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "wg0.lock")); !os.IsNotExist(err) {
			t.Errorf("%s: lock file left: %v", base, err)
		}
	}
}

// TestLockInterruptible: a wait for a held lock ends when its context
// does (SIGINT or SIGTERM in wg-quick), with an error that says nothing was
// changed, and leaves the holder's lock alone.
func TestLockInterruptible(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lock(context.Background(), dir, "wg0")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		u, err := lock(ctx, dir, "wg0")
		if err == nil {
			u()
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("lock returned %v while another held it", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
			t.Fatalf("interrupted wait: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the wait did not end with its context (hang guard, 30 s)")
	}
	if _, err := os.Stat(filepath.Join(dir, "wg0.lock")); err != nil {
		t.Errorf("the holder's lock file: %v", err)
	}
}

// gateResolver answers every name with 198.51.100.77 once the test lets
// it: each lookup announces itself on asked, then waits for release.
type gateResolver struct {
	asked   chan string
	release chan struct{}
}

func (g gateResolver) LookupNetIP(ctx context.Context, _, host string) ([]netip.Addr, error) {
	g.asked <- host
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return []netip.Addr{netip.MustParseAddr("198.51.100.77")}, nil
}

// TestLookupsOutsideTheLock: up, reload and reresolve look endpoint names
// up without holding the interface's lock (a name that does not resolve
// keeps a lookup retrying for over a minute, and another wg-quick on the
// interface, a systemctl stop's down, would wait all that time). While
// each verb's lookup is in progress, the lock is free: taking it with a
// context already cancelled succeeds only if nobody holds it.
func TestLookupsOutsideTheLock(t *testing.T) {
	const withName = "[Interface]\nPrivateKey = eGvwC0w/iSf++8d3zGyAxieGhkOVC6HS9CM+5ht1kns=\n\n[Peer]\nPublicKey = rH88fXnB0eX4gld6mGOlPI0uEQWNrr4nkzuqOl9fklY=\nAllowedIPs = 10.9.0.0/24\nEndpoint = %s:51820\n"
	r := newReloadEnv(t)
	g := gateResolver{asked: make(chan string), release: make(chan struct{})}
	r.Resolver = g
	r.Now = func() time.Time { return time.Now().Add(time.Hour) } // every handshake stale
	lockFree := func(verb string) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		unlock, err := lock(ctx, r.StateDir, "wg0")
		if err != nil {
			t.Errorf("%s: the lock is held during the name lookup: %v", verb, err)
			return
		}
		unlock()
	}
	for _, tc := range []struct {
		verb string
		host string
		run  func(cfg *config.Config) error
	}{
		{"up", "a.example.com", func(c *config.Config) error { return r.Up(context.Background(), "wg0", c) }},
		{"reload", "b.example.com", func(c *config.Config) error {
			return r.Reload(context.Background(), "wg0", c, ReloadOptions{})
		}},
		{"reresolve", "b.example.com", func(c *config.Config) error { return r.Reresolve(context.Background(), "wg0", c) }},
	} {
		done := make(chan error, 1)
		go func() { done <- tc.run(parse(t, fmt.Sprintf(withName, tc.host))) }()
		select {
		case host := <-g.asked:
			if host != tc.host {
				t.Errorf("%s looked up %q, want %q", tc.verb, host, tc.host)
			}
		case err := <-done:
			t.Fatalf("%s ended without a lookup: %v", tc.verb, err)
		}
		lockFree(tc.verb)
		g.release <- struct{}{}
		if err := <-done; err != nil {
			t.Fatalf("%s: %v", tc.verb, err)
		}
	}
	if ep := r.f.devices["wg0"].Peers[0].Endpoint; ep == nil || ep.String() != "198.51.100.77:51820" {
		t.Errorf("endpoint after the lookups: %v", ep)
	}
}

// TestReloadJournalChangedDuringLookup: reload reads the journal without
// the lock to look names up, and uses that reading under the lock only if
// the journal is unchanged. Here another reload (A → C) runs while the
// first (A → B) waits in its lookup; the first must then compare B with
// C, not with the A it read, and end exactly where a fresh up of B ends.
func TestReloadJournalChangedDuringLookup(t *testing.T) {
	base := testKeys.Replace(reloadBase)
	confB := edit(base, "Endpoint = 192.0.2.1:51820=>Endpoint = b.example.com:51820", "AllowedIPs = 10.1.0.0/16=>AllowedIPs = 10.8.0.0/16")
	confC := edit(base, "AllowedIPs = 10.2.0.0/16, 10.3.0.1/32=>AllowedIPs = 10.7.0.0/16")
	r := newReloadEnv(t)
	r.up(t, base)
	g := gateResolver{asked: make(chan string), release: make(chan struct{})}
	r.Resolver = g
	done := make(chan error, 1)
	go func() { done <- r.Reload(context.Background(), "wg0", parse(t, confB), ReloadOptions{}) }()
	<-g.asked
	// C's names are all unchanged: its reload looks nothing up.
	if err := r.Reload(context.Background(), "wg0", parse(t, confC), ReloadOptions{}); err != nil {
		t.Fatal(err)
	}
	g.release <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fresh := newReloadEnv(t)
	fresh.Resolver = fakeResolver{"b.example.com": {netip.MustParseAddr("198.51.100.77")}, "vpn.example.com": testNames["vpn.example.com"]}
	fresh.up(t, confB)
	if got, want := r.state(false), fresh.state(false); got != want {
		t.Errorf("after A→B with A→C in between (-fresh up of B +got):\n%s", cmp.Diff(want, got))
	}
	if got, want := r.applied(t), fresh.applied(t); got != want {
		t.Errorf("journal (-fresh up of B +got):\n%s", cmp.Diff(want, got))
	}
}
