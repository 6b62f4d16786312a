package userspace

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/syslog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// helperEnviron returns the environment that makes the test binary the
// helper mode.
func helperEnviron(mode string, extra ...string) []string {
	return append(append(withoutTestEnv(os.Environ()), helperEnv+"="+mode), extra...)
}

// selfExe returns the test binary's path.
func selfExe(t testing.TB) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return self
}

func TestSpawnReady(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "marker")
	// A stale readiness variable in the environment is replaced.
	env := helperEnviron("ready", markerEnv+"="+marker, ReadyFDEnv+"=99")
	pid, err := Spawn(selfExe(t), []string{"-test.run=^$"}, "helper", env, spawnTimeout)
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	p := openProc(t, pid)
	t.Cleanup(func() { p.stop(t, "helper") })

	// The helper writes 1000 lines to stderr after it is ready and then
	// creates the marker. Had stderr still been the pipe Spawn no longer
	// reads, it would have died of SIGPIPE instead.
	deadline := time.Now().Add(spawnTimeout)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if p.exited() {
			t.Fatalf("helper (pid %d) exited after it was ready, before creating its marker", pid)
		}
		if time.Now().After(deadline) {
			t.Fatalf("helper (pid %d) did not create its marker within %v", pid, spawnTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p.exited() {
		t.Fatalf("helper (pid %d) exited", pid)
	}
	if b, err := os.ReadFile(marker); err != nil || len(b) != 0 {
		t.Errorf("the helper saw %s=%q after ReadyFromEnv (err=%v); want it unset", ReadyFDEnv, b, err)
	}

	// Detached: its own session and process group, "/" as working
	// directory, standard descriptors on /dev/null.
	if sid, err := unix.Getsid(pid); err != nil || sid != pid {
		t.Errorf("getsid(%d) = %d, %v; want its own session", pid, sid, err)
	}
	if pgid, err := unix.Getpgid(pid); err != nil || pgid != pid {
		t.Errorf("getpgid(%d) = %d, %v; want its own process group", pid, pgid, err)
	}
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err != nil || cwd != "/" {
		t.Errorf("working directory %q (err=%v), want /", cwd, err)
	}
	for fd := range 3 {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd)); err != nil || target != os.DevNull {
			t.Errorf("fd %d is %q (err=%v), want %s", fd, target, err, os.DevNull)
		}
	}
	// The readiness pipe is closed.
	if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/3", pid)); err == nil && strings.HasPrefix(target, "pipe:") {
		t.Errorf("fd 3 is still %s", target)
	}

	if !p.signal(unix.SIGTERM) || !p.waitExit(10*time.Second) {
		t.Errorf("helper (pid %d) did not exit on SIGTERM", pid)
	}
}

func TestSpawnFailures(t *testing.T) {
	t.Parallel()
	self := selfExe(t)
	tests := []struct {
		name       string
		exe        string
		args       []string
		env        []string
		timeout    time.Duration
		wantIn     []string // substrings of the error
		wantNotIn  []string
		wantExists bool
	}{
		{
			name:      "reports failure",
			exe:       self,
			env:       helperEnviron("fail"),
			wantIn:    []string{"helper failed on purpose", "helper: a line on stderr"},
			wantNotIn: []string{"exit status"},
		},
		{
			name:       "reports exists",
			exe:        self,
			env:        helperEnviron("exists"),
			wantIn:     []string{"interface helper already exists"},
			wantExists: true,
		},
		{
			name:   "panics",
			exe:    self,
			env:    helperEnviron("panic"),
			wantIn: []string{"stopped before it was ready", "exit status 2", "helper panics on purpose", "goroutine"},
		},
		{
			name:   "exits",
			exe:    "/bin/sh",
			args:   []string{"-c", "echo oops >&2; exit 3"},
			wantIn: []string{"userspace daemon for wgx", "stopped before it was ready: exit status 3", "oops"},
		},
		{
			name:   "exits without output",
			exe:    "/bin/sh",
			args:   []string{"-c", "exit 0"},
			wantIn: []string{"stopped before it was ready: exit status 0"},
		},
		{
			name:   "closes the pipe and runs on",
			exe:    "/bin/sh",
			args:   []string{"-c", "exec 3>&-; echo closed >&2; exec sleep 60"},
			wantIn: []string{"closed its readiness pipe without a report and did not exit within 5s; killed it", "closed"},
		},
		{
			name:    "never ready",
			exe:     "/bin/sh",
			args:    []string{"-c", "echo waiting >&2; exec sleep 60"},
			timeout: 500 * time.Millisecond,
			wantIn:  []string{"not ready within 500ms; killed it", "waiting"},
		},
		{
			name:   "missing program",
			exe:    "/nonexistent/wgtools-daemon",
			wantIn: []string{"starting userspace daemon for wgx", "no such file"},
		},
		{
			name:    "no timeout",
			exe:     "/bin/true",
			timeout: -1,
			wantIn:  []string{"invalid timeout -1ns"},
		},
		{
			name:   "not in PATH",
			exe:    "wgtools-no-such-daemon",
			wantIn: []string{"starting userspace daemon for wgx", "not found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			timeout := tt.timeout
			if timeout == 0 { // unset
				timeout = spawnTimeout
			}
			args := tt.args
			if tt.exe == self {
				args = []string{"-test.run=^$"}
			}
			pid, err := Spawn(tt.exe, args, "wgx", tt.env, timeout)
			if err == nil {
				p := openProc(t, pid)
				p.stop(t, "daemon")
				t.Fatalf("Spawn succeeded (pid %d), want an error", pid)
			}
			t.Logf("Spawn: %v", err)
			if pid != 0 {
				t.Errorf("Spawn returned pid %d with its error", pid)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error does not contain %q:\n%v", s, err)
				}
			}
			for _, s := range tt.wantNotIn {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error contains %q:\n%v", s, err)
				}
			}
			if got := errors.Is(err, fs.ErrExist); got != tt.wantExists {
				t.Errorf("errors.Is(err, fs.ErrExist) = %v, want %v; err:\n%v", got, tt.wantExists, err)
			}
		})
	}
}

// TestReadyFromEnvWithoutSpawn: without a usable readiness descriptor in
// the environment (unset, not a number, or one of stdin, stdout and
// stderr), ready and fail do nothing: they leave stdout and stderr alone
// (ready of a spawned daemon points them at /dev/null) and the variable as
// it was (a spawned daemon's is removed).
func TestReadyFromEnvWithoutSpawn(t *testing.T) {
	stdio := func() [2][2]uint64 {
		var ids [2][2]uint64
		for i, fd := range []int{1, 2} {
			var st unix.Stat_t
			if err := unix.Fstat(fd, &st); err != nil {
				t.Fatal(err)
			}
			ids[i] = [2]uint64{st.Dev, st.Ino}
		}
		return ids
	}
	before := stdio()
	for _, v := range []string{"unset", "x", "-1", "2"} {
		t.Setenv(ReadyFDEnv, v)
		if v == "unset" {
			os.Unsetenv(ReadyFDEnv)
		}
		ready, fail := ReadyFromEnv()
		ready()
		fail(errors.New("ignored"))
		if stdio() != before {
			t.Fatalf("%s=%s: ready or fail redirected stdout or stderr", ReadyFDEnv, v)
		}
		if got, ok := os.LookupEnv(ReadyFDEnv); v != "unset" && (!ok || got != v) {
			t.Errorf("%s=%s: the variable became %q (set: %v)", ReadyFDEnv, v, got, ok)
		}
	}
}

func TestRunInvalidArguments(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ifn  string
		ctx  context.Context
		opts Options
		want string
	}{
		{name: "long name", ifn: "sixteen-chars-xx", want: `invalid interface name "sixteen-chars-xx": longer than 15 bytes`},
		{name: "slash", ifn: "../etc", want: `invalid interface name "../etc": contains '/', ':', '%' or white space`},
		{name: "MTU", ifn: "wg0", opts: Options{MTU: -1}, want: "invalid MTU -1"},
		{name: "cancelled", ifn: "wg0", ctx: cancelled, want: "starting userspace device wg0: context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			err := Run(ctx, tt.ifn, tt.opts, func() { t.Error("ready called") })
			if err == nil {
				t.Fatal("Run succeeded")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("unexpected error (-want +got):\n%s", diff)
			}
		})
	}
}

func Test_spawnError(t *testing.T) {
	exit3 := errors.New("exit status 3")
	tests := []struct {
		name       string
		report     string
		waitErr    error
		stderr     string
		want       string
		wantExists bool
	}{
		{
			name:   "report",
			report: "Esetting up: boom",
			want:   "setting up: boom",
		},
		{
			name:   "report and stderr",
			report: "Eboom",
			stderr: "warning: something\n",
			want:   "boom; its stderr:\nwarning: something",
		},
		{
			name:   "report repeated on stderr",
			report: "Eboom",
			stderr: "daemon wg0: boom\n",
			want:   "boom",
		},
		{
			name:       "exists",
			report:     "Xinterface wg0 already exists",
			want:       "interface wg0 already exists",
			wantExists: true,
		},
		{
			name:   "no report",
			stderr: "panic: oops\n",
			want:   "userspace daemon for wg0 (pid 42) stopped before it was ready: exit status 3; its stderr:\npanic: oops",
		},
		{
			name:    "timeout",
			waitErr: errors.New("not ready"),
			want:    "not ready",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := spawnError("wg0", 42, []byte(tt.report), tt.waitErr, exit3, tt.stderr)
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("unexpected error (-want +got):\n%s", diff)
			}
			if got := errors.Is(err, fs.ErrExist); got != tt.wantExists {
				t.Errorf("errors.Is(err, fs.ErrExist) = %v, want %v", got, tt.wantExists)
			}
		})
	}
}

func Test_withoutEnv(t *testing.T) {
	got := withoutEnv([]string{"A=1", "WGTOOLS_READY_FD=3", "WGTOOLS_READY_FDX=4", "B=2", "WGTOOLS_READY_FD="}, ReadyFDEnv)
	want := []string{"A=1", "WGTOOLS_READY_FDX=4", "B=2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unexpected environment (-want +got):\n%s", diff)
	}
}

// TestSyslogLogfLazy: making the logger dials nothing; the first message
// dials once, and later ones (even after a failed dial) do not dial again;
// a logger closed before any message never dials.
func TestSyslogLogfLazy(t *testing.T) {
	dials := 0
	dial := func() (*syslog.Writer, error) {
		dials++
		return nil, errors.New("no syslog here")
	}
	logf, closeLog := syslogLogf(dial)
	if dials != 0 {
		t.Fatalf("%d dials before any message", dials)
	}
	logf("DEBUG: %s", "first")
	logf("ERROR: second")
	if dials != 1 {
		t.Errorf("%d dials after two messages, want 1", dials)
	}
	closeLog()
	logf("after close")
	if dials != 1 {
		t.Errorf("%d dials after close, want 1", dials)
	}

	dials = 0
	logf, closeLog = syslogLogf(dial)
	closeLog()
	logf("never sent")
	if dials != 0 {
		t.Errorf("a logger closed before its first message dialled %d times", dials)
	}
}
