package nettest

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recordingTB records what Require does instead of stopping the test.
type recordingTB struct {
	testing.TB // nil; calling anything not overridden panics
	skipped    string
	failed     string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}

func TestRequire(t *testing.T) {
	tests := []struct {
		name        string
		ci          string
		ok          bool
		wantSkipped bool
		wantFailed  bool
	}{
		{name: "met", ci: "", ok: true},
		{name: "met in CI", ci: "true", ok: true},
		{name: "missing", ci: "", ok: false, wantSkipped: true},
		{name: "missing in CI", ci: "true", ok: false, wantFailed: true},
		{name: "missing, CI not true", ci: "1", ok: false, wantSkipped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			var r recordingTB
			Require(&r, tt.ok, "the reason")
			if got := r.skipped != ""; got != tt.wantSkipped {
				t.Errorf("skipped = %v (%q), want %v", got, r.skipped, tt.wantSkipped)
			}
			if got := r.failed != ""; got != tt.wantFailed {
				t.Errorf("failed = %v (%q), want %v", got, r.failed, tt.wantFailed)
			}
			if msg := r.skipped + r.failed; msg != "" && !regexp.MustCompile(`the reason`).MatchString(msg) {
				t.Errorf("message %q does not give the reason", msg)
			}
		})
	}
}

func TestUniqueIfName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-zA-Z0-9_=+.-]{1,15}$`)
	seen := make(map[string]bool)
	for range 100 {
		name := UniqueIfName(t, "wgtest")
		if !valid.MatchString(name) {
			t.Fatalf("UniqueIfName = %q, not a valid interface name", name)
		}
		if seen[name] {
			t.Fatalf("UniqueIfName returned %q twice", name)
		}
		seen[name] = true
	}
}

func TestUniqueIfNameBadPrefix(t *testing.T) {
	for _, prefix := range []string{"", "wg-x", "0wg", "averyverylongprefix"} {
		t.Run(prefix, func(t *testing.T) {
			var r recordingTB
			UniqueIfName(&r, prefix)
			if r.failed == "" {
				t.Errorf("UniqueIfName(%q) did not fail the test", prefix)
			}
		})
	}
}

func TestMust(t *testing.T) {
	if diff := cmp.Diff("10.0.0.1/24", MustPrefix("10.0.0.1/24").String()); diff != "" {
		t.Errorf("unexpected MustPrefix (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("fd00::1", MustAddr("fd00::1").String()); diff != "" {
		t.Errorf("unexpected MustAddr (-want +got):\n%s", diff)
	}
	for name, fn := range map[string]func(){
		"MustPrefix": func() { MustPrefix("10.0.0.1") },
		"MustAddr":   func() { MustAddr("10.0.0.1/24") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic on bad input", name)
				}
			}()
			fn()
		})
	}
}
