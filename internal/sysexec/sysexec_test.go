package sysexec

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestOSRun(t *testing.T) {
	var out bytes.Buffer
	if err := (OS{}).Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "cat; echo x"}, Stdin: strings.NewReader("in\n"), Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "in\nx\n" {
		t.Errorf("output %q", out.String())
	}
	err := (OS{}).Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "exit 3"}})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 3 {
		t.Errorf("err = %v, want exit 3", err)
	}
	if err := (OS{}).Run(context.Background(), Cmd{Name: "/nonexistent/prog"}); err == nil || errors.As(err, &ee) {
		t.Errorf("missing program: err = %v, want a non-exit error", err)
	}
}

func TestRecorder(t *testing.T) {
	r := &Recorder{Results: map[string]error{"b 1": errors.New("boom")}, Outputs: map[string]string{"a": "out"}}
	var out bytes.Buffer
	if err := r.Run(context.Background(), Cmd{Name: "a", Stdin: strings.NewReader("x"), Stdout: &out}); err != nil || out.String() != "out" {
		t.Fatalf("a: %v %q", err, out.String())
	}
	if err := r.Run(context.Background(), Cmd{Name: "b", Args: []string{"1"}}); err == nil {
		t.Fatal("b 1 should fail")
	}
	if strings.Join(r.Cmds, "|") != "a|b 1" || r.Stdins[0] != "x" {
		t.Errorf("recorded %q %q", r.Cmds, r.Stdins)
	}
}

// TestRunLeavesBackgroundChildren: a command that leaves a process in the
// background holding its output pipe (a hook's `server &`) does not keep
// Run waiting for that process: Run returns once the command exited (and
// PipeWait passed), with its output and no error.
func TestRunLeavesBackgroundChildren(t *testing.T) {
	var out bytes.Buffer
	err := (OS{}).Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "sleep 600 & echo $!"}, Stdout: &out})
	if pid, perr := strconv.Atoi(strings.TrimSpace(out.String())); perr == nil {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if strings.TrimSpace(out.String()) == "" {
		t.Fatal("no output")
	}
}
