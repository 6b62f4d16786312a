package hooks

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/nettest"
	"github.com/wgtools/wgtools/internal/sysexec"
)

func TestRunRecorded(t *testing.T) {
	rec := &sysexec.Recorder{Results: map[string]error{
		"bash -e -o pipefail -O extglob -c false": &sysexec.ExitError{Cmd: "false", Code: 1},
	}}
	var stderr bytes.Buffer
	r := &Runner{Exec: rec, Iface: "wg0", Env: []string{}, Stderr: &stderr}
	err := r.Run(context.Background(), []string{"echo %i %i", "false", "never"})
	var ee *sysexec.ExitError
	if !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("err = %v, want the failing hook's exit", err)
	}
	if diff := cmp.Diff([]string{"bash -e -o pipefail -O extglob -c echo wg0 wg0", "bash -e -o pipefail -O extglob -c false"}, rec.Cmds); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	if got, want := stderr.String(), "[#] echo wg0 wg0\n[#] false\n"; got != want {
		t.Errorf("transcript %q, want %q", got, want)
	}
}

// TestRunBash runs real bash: errexit and pipefail are on inside hooks, as
// in wg-quick, and comments and quotes pass through untouched.
func TestRunBash(t *testing.T) {
	nettest.RequireBinary(t, "bash") // a failure in CI, a skip elsewhere
	for _, tt := range []struct {
		hook    string
		wantOut string
		wantErr bool
	}{
		{hook: `echo "a # b" # comment`, wantOut: "a # b\n"},
		{hook: "echo %i; echo 'x;y'", wantOut: "wgt\nx;y\n"},
		{hook: "false; echo not reached", wantErr: true},
		{hook: "false | true", wantErr: true},
		{hook: "[[ x == @(x|y) ]] && echo extglob", wantOut: "extglob\n"},
	} {
		var out, errOut bytes.Buffer
		r := &Runner{Exec: sysexec.OS{}, Iface: "wgt", Stdout: &out, Stderr: &errOut}
		err := r.Run(context.Background(), []string{tt.hook})
		if (err != nil) != tt.wantErr || out.String() != tt.wantOut {
			t.Errorf("hook %q: out %q err %v; want %q, error %v", tt.hook, out.String(), err, tt.wantOut, tt.wantErr)
		}
		if !strings.HasPrefix(errOut.String(), "[#] ") {
			t.Errorf("hook %q not echoed: %q", tt.hook, errOut.String())
		}
	}
}
