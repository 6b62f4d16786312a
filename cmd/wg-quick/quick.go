package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/quick"
)

// newQuickEnv wires the orchestrator to the running system, with what
// the environment says about it.
func (e *env) newQuickEnv(iface string) (*quick.Env, func(), error) {
	if os.Geteuid() != 0 {
		return nil, nil, errors.New("must be run as root")
	}
	retries, err := config.ParseRetries(os.LookupEnv("WG_ENDPOINT_RESOLUTION_RETRIES"))
	if err != nil {
		return nil, nil, err
	}
	o := e.systemOptions(iface)
	o.Retries = retries
	q, done, err := quick.NewEnv(o)
	if err != nil {
		return nil, nil, err
	}
	q.SaveCanonical = saveCanonical()
	if os.Getenv("WG_QUICK_TIMING") != "" {
		q.Trace = func(phase string, d time.Duration) {
			fmt.Fprintf(e.stderr, "[timing] %s %.1fms\n", phase, float64(d.Microseconds())/1000)
		}
	}
	if injectFaults != nil {
		if err := injectFaults(e, q); err != nil {
			done()
			return nil, nil, err
		}
	}
	return q, done, nil
}

// systemOptions are the environment's choices for the system: hooks find
// our own wg first (wg-quick puts its own directory first in PATH) and run
// in the C locale; WG_QUICK_FIREWALL and WG_QUICK_USERSPACE_IMPLEMENTATION.
func (e *env) systemOptions(iface string) quick.Options {
	hookEnv := os.Environ()
	self, err := os.Executable()
	if err == nil {
		hookEnv = append(hookEnv, "PATH="+filepath.Dir(self)+":"+os.Getenv("PATH"))
	}
	return quick.Options{
		Iface: iface, Stdout: e.stdout, Stderr: e.stderr,
		HookEnv:   append(hookEnv, "LC_ALL=C"),
		Firewall:  os.Getenv("WG_QUICK_FIREWALL"),
		Userspace: os.Getenv("WG_QUICK_USERSPACE_IMPLEMENTATION"),
		Self:      self,
	}
}

// injectFaults is set only in binaries built with the faultinject tag
// (fault_on.go), for the tests that make each step of up fail for real.
var injectFaults func(*env, *quick.Env) error

// withQuick parses the file and runs fn with the orchestrator wired to
// the system; every verb that changes or reads a live interface goes
// through it.
func (e *env) withQuick(file, iface string, fn func(q *quick.Env, cfg *config.Config, warnings []string) error) error {
	cfg, data, warnings, err := e.parse(file)
	if err != nil {
		return err
	}
	q, done, err := e.newQuickEnv(iface)
	if err != nil {
		return err
	}
	defer done()
	q.ConfigFile, q.ConfigData = file, data
	return fn(q, cfg, warnings)
}

func (e *env) up(ctx context.Context, file, iface string) error {
	return e.withQuick(file, iface, func(q *quick.Env, cfg *config.Config, warnings []string) error {
		q.ConfigWarnings = warnings
		return q.Up(ctx, iface, cfg)
	})
}

func (e *env) down(ctx context.Context, file, iface string) error {
	return e.withQuick(file, iface, func(q *quick.Env, cfg *config.Config, _ []string) error {
		return q.Down(ctx, iface, cfg, file)
	})
}
