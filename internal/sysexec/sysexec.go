// Package sysexec runs external programs (the hook shell, resolvconf,
// resolvectl) through one narrow interface, so that the code deciding what
// to run is tested with a recording fake and the real thing is tested in a
// network namespace.
package sysexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Cmd is one program invocation.
type Cmd struct {
	Name string
	Args []string
	// Env, if not nil, replaces the environment.
	Env    []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// String renders the command as a shell would show it, for `[#]` lines.
func (c Cmd) String() string {
	return strings.Join(append([]string{c.Name}, c.Args...), " ")
}

// Runner runs commands.
type Runner interface {
	Run(ctx context.Context, c Cmd) error
}

// OS runs commands with os/exec.
type OS struct{}

var _ Runner = OS{}

// PipeWait bounds how long Run waits, once the command has exited, for
// the pipes it made for Stdin, Stdout and Stderr (when they are not
// files) to close: a process the command left running in the background
// (a hook's `daemon &`, a resolvconf that starts a helper) keeps them open
// for its life, and wg-quick must not wait for that.
const PipeWait = 2 * time.Second

// Run runs c and waits for it. A non-zero exit is an *ExitError.
func (OS) Run(ctx context.Context, c Cmd) error {
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Env = c.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	cmd.WaitDelay = PipeWait
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil // the command succeeded; what it left behind holds the pipe
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &ExitError{Cmd: c.String(), Code: ee.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("running %s: %w", c.Name, err)
	}
	return nil
}

// ExitError is a command that ran and exited non-zero (or was killed: Code
// -1).
type ExitError struct {
	Cmd  string
	Code int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("%s: exit status %d", e.Cmd, e.Code)
}

// LookPath reports whether a program is on PATH.
func LookPath(name string) (string, bool) {
	p, err := exec.LookPath(name)
	return p, err == nil
}

// Recorder is a fake Runner that records every command with its standard
// input, and answers from Results (keyed by the command's String) or with
// success.
type Recorder struct {
	mu      sync.Mutex
	Cmds    []string
	Stdins  []string
	Results map[string]error
	Outputs map[string]string
}

var _ Runner = (*Recorder)(nil)

// Run records c and returns its configured result.
func (r *Recorder) Run(_ context.Context, c Cmd) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	in := ""
	if c.Stdin != nil {
		var b bytes.Buffer
		io.Copy(&b, c.Stdin)
		in = b.String()
	}
	r.Cmds = append(r.Cmds, c.String())
	r.Stdins = append(r.Stdins, in)
	if out, ok := r.Outputs[c.String()]; ok && c.Stdout != nil {
		io.WriteString(c.Stdout, out)
	}
	return r.Results[c.String()]
}
