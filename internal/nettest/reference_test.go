package nettest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCheckReference: the guard takes the installed wireguard-tools for the
// reference and refuses a Go program in their place (ours after `make
// install`), whatever its name.
func TestCheckReference(t *testing.T) {
	self, err := os.Executable() // a Go program, as ours are
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "wg-quick")
	if err := os.WriteFile(script, []byte("#!/bin/bash\n# wg-quick stand-in\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notBash := filepath.Join(dir, "sh-wg-quick")
	if err := os.WriteFile(notBash, []byte("#!/bin/sh\n# wg-quick\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, name string
		ok         bool
	}{
		{self, "wg", false},
		{self, "wg-quick", false},
		{script, "wg", false},
		{script, "wg-quick", true},
		{notBash, "wg-quick", false},
		{self, "iperf3", false},
	} {
		if err := checkReference(tc.path, tc.name); (err == nil) != tc.ok {
			t.Errorf("checkReference(%s, %s) = %v, want ok %v", tc.path, tc.name, err, tc.ok)
		}
	}
	// The installed reference passes.
	t.Logf("reference in %s", ReferenceDir)
	for _, name := range []string{"wg", "wg-quick"} {
		p := filepath.Join(ReferenceDir, name)
		if _, err := os.Stat(p); err != nil {
			Require(t, false, "reference "+p+": "+err.Error())
			continue
		}
		if err := checkReference(p, name); err != nil {
			t.Errorf("the installed reference: %v", err)
		}
	}
}

// TestReferenceDirFallsBack: where our wg has replaced the C one in the
// first directory (our package installed), the differential tests use the
// copy in the second; where it has not, the first.
func TestReferenceDirFallsBack(t *testing.T) {
	c := Reference(t, "wg")      // the C wg(8), wherever it is here
	self, err := os.Executable() // a Go program
	if err != nil {
		t.Fatal(err)
	}
	link := func(dir, target string) string {
		d := filepath.Join(t.TempDir(), dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(d, "wg")); err != nil {
			t.Fatal(err)
		}
		return d
	}
	ours, copied := link("usr/bin", self), link("copy/usr/bin", c)
	if got := referenceDir(ours, copied); got != copied {
		t.Errorf("with ours installed: %s, want the copy %s", got, copied)
	}
	installed := link("usr/bin", c)
	if got := referenceDir(installed, copied); got != installed {
		t.Errorf("with the reference installed: %s, want %s", got, installed)
	}
	if got := referenceDir(ours, t.TempDir()); got != ours {
		t.Errorf("with no reference anywhere: %s, want the first, %s", got, ours)
	}
}
