package quick

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
