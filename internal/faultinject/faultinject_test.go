package faultinject

import (
	"context"
	"strings"
	"testing"

	"github.com/wgtools/wgtools/internal/hooks"
	"github.com/wgtools/wgtools/internal/quick"
	"github.com/wgtools/wgtools/internal/sysexec"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		spec   string
		at     int
		signal bool
		bad    bool
	}{
		{"1", 1, false, false},
		{"17", 17, false, false},
		{"signal:3", 3, true, false},
		{"0", 0, false, true},
		{"-2", 0, false, true},
		{"signal:", 0, false, true},
		{"x", 0, false, true},
	} {
		inj, err := Parse(tt.spec)
		if tt.bad {
			if err == nil || !strings.Contains(err.Error(), EnvVar) {
				t.Errorf("Parse(%q): err %v, want an error naming %s", tt.spec, err, EnvVar)
			}
			continue
		}
		if err != nil || inj.at != tt.at || inj.signal != tt.signal {
			t.Errorf("Parse(%q) = %+v, %v", tt.spec, inj, err)
		}
	}
}

// TestFiresOnce: the Nth call through the wrappers fails, naming itself,
// and every other call (before and after) reaches the real runner.
func TestFiresOnce(t *testing.T) {
	rec := &sysexec.Recorder{}
	q := &quick.Env{Hooks: &hooks.Runner{Exec: rec, Iface: "wg0", Stdout: &strings.Builder{}, Stderr: &strings.Builder{}}}
	inj, err := Parse("2")
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	inj.Log = func(s string) { logged = append(logged, s) }
	inj.Wrap(q)
	ctx := context.Background()
	if err := q.Hooks.Run(ctx, []string{"echo one"}); err != nil {
		t.Fatalf("call 1: %v", err)
	}
	err = q.Hooks.Run(ctx, []string{"echo two"})
	if err == nil || !strings.Contains(err.Error(), "injected fault at call 2: exec bash") {
		t.Fatalf("call 2: err %v, want the injected fault", err)
	}
	if err := q.Hooks.Run(ctx, []string{"echo three"}); err != nil {
		t.Fatalf("call 3: %v", err)
	}
	if !inj.Fired() || inj.Calls() != 3 {
		t.Errorf("Fired %v, Calls %d; want true, 3", inj.Fired(), inj.Calls())
	}
	if len(rec.Cmds) != 2 {
		t.Errorf("runner saw %d commands, want 2 (the failed one never runs): %v", len(rec.Cmds), rec.Cmds)
	}
	if len(logged) != 1 || !strings.HasPrefix(logged[0], "[fault] failing call 2") {
		t.Errorf("logged %q", logged)
	}
}
