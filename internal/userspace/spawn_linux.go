package userspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/syslog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// readyFD is the descriptor number of the readiness pipe in the
	// daemon: the first of exec.Cmd.ExtraFiles.
	readyFD = 3
	// maxReport and maxStderr bound how much of the daemon's failure report
	// and of its stderr Spawn keeps.
	maxReport = 16 << 10
	maxStderr = 16 << 10
	// exitTimeout bounds how long Spawn waits for a daemon that failed, or
	// that it killed, to exit, and for its stderr to reach end of file.
	exitTimeout = 5 * time.Second
)

// Spawn starts exe with args as a detached daemon that runs a userspace
// device for interface name, and waits at most timeout until it is ready.
// The program is expected to call [Daemon] (or [ReadyFromEnv] and [Run]).
// Spawn returns the daemon's process ID once the daemon reports its device
// ready; the daemon then runs on, in its own session (setsid), with its
// working directory at "/", and stdin, stdout and stderr on /dev/null.
//
// env is the daemon's environment; nil means the current one. Spawn sets
// [ReadyFDEnv] in it to the descriptor of the readiness pipe, which the
// daemon inherits. Until the daemon is ready, its stderr goes to a pipe.
//
// If the daemon reports a failure, exits or closes the pipe before it is
// ready, Spawn returns an error with the daemon's error text (wrapping
// [fs.ErrExist] if the daemon's error did) or its exit status, followed by
// what it wrote to stderr. If it is not ready within timeout, which must be
// positive, Spawn kills its process group and returns an error.
//
// As long as the calling process runs, a goroutine waits for the daemon to
// exit, so that it does not linger as a zombie; once the caller exits, init
// adopts the daemon.
func Spawn(exe string, args []string, name string, env []string, timeout time.Duration) (pid int, err error) {
	if timeout <= 0 {
		return 0, fmt.Errorf("starting userspace daemon for %s: invalid timeout %v", name, timeout)
	}
	if !strings.ContainsRune(exe, '/') {
		if exe, err = exec.LookPath(exe); err != nil {
			return 0, fmt.Errorf("starting userspace daemon for %s: %w", name, err)
		}
	}
	// The daemon starts in "/", so that it keeps no directory busy.
	if exe, err = filepath.Abs(exe); err != nil {
		return 0, fmt.Errorf("starting userspace daemon for %s: %w", name, err)
	}
	if env == nil {
		env = os.Environ()
	}

	readyR, readyW, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("starting userspace daemon for %s: %w", name, err)
	}
	defer readyR.Close()
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return 0, fmt.Errorf("starting userspace daemon for %s: %w", name, err)
	}
	defer stderrR.Close()

	cmd := exec.Command(exe, args...)
	cmd.Env = append(withoutEnv(env, ReadyFDEnv), ReadyFDEnv+"="+strconv.Itoa(readyFD))
	cmd.Dir = "/"
	cmd.Stderr = stderrW // an *os.File: the child writes to it directly
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	// The child has its own copies now; without closing ours, the reads
	// below would not see end of file when the child exits.
	readyW.Close()
	stderrW.Close()
	if err != nil {
		return 0, fmt.Errorf("starting userspace daemon for %s: %w", name, err)
	}
	pid = cmd.Process.Pid

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // also reaps the daemon later
	stderr := &limitedBuffer{max: maxStderr}
	stderrDone := make(chan struct{})
	go func() {
		io.Copy(stderr, stderrR) // ends at EOF, or when Spawn closes stderrR
		close(stderrDone)
	}()
	reports := make(chan []byte, 1)
	go func() { reports <- readReport(readyR) }()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var (
		report  []byte
		waitErr error
		exitErr error // cmd.Wait's result, once hasExited
		// hasExited is set once the daemon exited; exitErr is nil if it
		// exited with status 0.
		hasExited bool
	)
	select {
	case report = <-reports:
		if len(report) > 0 && report[0] == reportReady {
			return pid, nil
		}
	case exitErr = <-exited:
		hasExited = true
		// The daemon's report, if any, is complete once it has exited,
		// unless a process it started holds the pipe open.
		select {
		case report = <-reports:
		case <-time.After(exitTimeout):
		}
		if len(report) > 0 && report[0] == reportReady {
			// Ready, and already gone; whoever looks at the device next
			// will find out.
			return pid, nil
		}
	case <-timer.C:
		waitErr = fmt.Errorf("userspace daemon for %s (pid %d) not ready within %v; killed it", name, pid, timeout)
		// Setsid made the daemon a process group leader; its children,
		// if any, go too.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}

	// Failure: collect the exit status and stderr, within bounds.
	exitTimer := time.NewTimer(exitTimeout)
	defer exitTimer.Stop()
	if !hasExited {
		select {
		case exitErr = <-exited:
		case <-exitTimer.C:
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			exitErr = errors.New("killed")
			if len(report) == 0 {
				waitErr = fmt.Errorf("userspace daemon for %s (pid %d) closed its readiness pipe without a report and did not exit within %v; killed it", name, pid, exitTimeout)
			}
		}
	}
	// Processes the daemon started may hold its stderr open.
	select {
	case <-stderrDone:
	case <-time.After(exitTimeout):
		stderrR.Close()
		<-stderrDone
	}
	if exitErr == nil {
		exitErr = errors.New("exit status 0") // as exec.ExitError says it
	}
	return 0, spawnError(name, pid, report, waitErr, exitErr, stderr.String())
}

// readReport reads the daemon's report from the readiness pipe: the ready
// byte alone, or everything up to end of file.
func readReport(r io.Reader) []byte {
	first := make([]byte, 1)
	if n, _ := io.ReadFull(r, first); n == 0 {
		return nil
	}
	if first[0] == reportReady {
		return first
	}
	rest, _ := io.ReadAll(io.LimitReader(r, maxReport))
	return append(first, rest...)
}

// spawnError describes why a daemon did not get ready: its report, or else
// waitErr or its exit status exitErr, and then its stderr.
func spawnError(name string, pid int, report []byte, waitErr, exitErr error, stderr string) error {
	stderr = strings.TrimSpace(stderr)
	withStderr := func(msg string) string {
		if stderr == "" {
			return msg
		}
		return msg + "; its stderr:\n" + stderr
	}
	if len(report) > 0 && (report[0] == reportFailed || report[0] == reportExists) {
		text := strings.TrimSpace(string(report[1:]))
		// The program may have printed the error itself; say it once.
		if strings.Contains(stderr, text) {
			stderr = ""
		}
		msg := withStderr(text)
		if report[0] == reportExists {
			return existsError(msg)
		}
		return errors.New(msg)
	}
	if waitErr != nil {
		return errors.New(withStderr(waitErr.Error()))
	}
	return errors.New(withStderr(fmt.Sprintf("userspace daemon for %s (pid %d) stopped before it was ready: %v", name, pid, exitErr)))
}

// withoutEnv returns env without the entries for key.
func withoutEnv(env []string, key string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// ReadyFromEnv returns the daemon side of [Spawn]'s readiness protocol.
// If the environment variable [ReadyFDEnv] names the inherited readiness
// pipe, ReadyFromEnv unsets it and returns:
//
//   - ready, which points stdout and stderr at /dev/null (Spawn stops
//     reading stderr then; writes to a pipe nobody reads would kill the
//     process with SIGPIPE) and tells Spawn the device is ready;
//   - fail, which sends Spawn err's text as the reason the daemon failed.
//
// Only the first call of either has an effect, and either closes the pipe.
// Without the variable, both do nothing.
func ReadyFromEnv() (ready func(), fail func(error)) {
	v, ok := os.LookupEnv(ReadyFDEnv)
	fd, err := strconv.Atoi(v)
	if !ok || err != nil || fd < 3 {
		return func() {}, func(error) {}
	}
	os.Unsetenv(ReadyFDEnv)
	// Nothing this process starts needs the pipe.
	unix.CloseOnExec(fd)
	pipe := os.NewFile(uintptr(fd), "readiness pipe")

	var once sync.Once
	ready = func() {
		once.Do(func() {
			detachStdio()
			pipe.Write([]byte{reportReady})
			pipe.Close()
		})
	}
	fail = func(err error) {
		once.Do(func() {
			pipe.Write(failureReport(err))
			pipe.Close()
		})
	}
	return ready, fail
}

// detachStdio points stdout and stderr at /dev/null.
func detachStdio() {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer null.Close()
	for _, fd := range []int{1, 2} {
		_ = unix.Dup3(int(null.Fd()), fd, 0)
	}
}

// Daemon runs the daemon side of [Spawn]: it is what the program that Spawn
// starts calls, with a ctx cancelled by SIGTERM and SIGINT. When started by
// Spawn (see [ReadyFromEnv]), it logs to syslog with the tag
// "wgtools-<name>" if syslog is available, and nowhere otherwise, instead of
// to opts.Logf; it tells Spawn when the device is ready, or why it could not
// be set up. Otherwise it is Run(ctx, name, opts, nil). It returns Run's
// error.
func Daemon(ctx context.Context, name string, opts Options) error {
	_, spawned := os.LookupEnv(ReadyFDEnv)
	ready, fail := ReadyFromEnv()
	if spawned {
		logf, closeLog := syslogLogf(func() (*syslog.Writer, error) {
			return syslog.New(syslog.LOG_DAEMON|syslog.LOG_INFO, "wgtools-"+name)
		})
		defer closeLog()
		opts.Logf = logf
	}
	if err := Harden(); err != nil && opts.Logf != nil {
		opts.Logf("Hardening the device process: %v", err)
	}
	err := Run(ctx, name, opts, ready)
	if err != nil {
		fail(err)
	}
	return err
}

// syslogLogf returns a printf-style function that sends messages to the
// syslog connection dial makes (facility daemon, tagged "wgtools-<name>"
// in Daemon), and a function closing the
// connection. Messages that start with "ERROR: " get priority err, those
// that start with "DEBUG: " priority debug, others info. Without syslog, the
// function discards messages. The connection is made at the first message:
// at the default log level most devices never log, and looking for a
// syslog socket was a tenth of the device's start.
func syslogLogf(dial func() (*syslog.Writer, error)) (logf func(format string, args ...any), closeLog func()) {
	var (
		mu     sync.Mutex
		w      *syslog.Writer
		tried  bool
		closed bool
	)
	logf = func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		mu.Lock()
		defer mu.Unlock()
		if !tried && !closed {
			tried = true
			w, _ = dial()
		}
		if w == nil {
			return
		}
		switch {
		case strings.HasPrefix(msg, "ERROR: "):
			_ = w.Err(msg)
		case strings.HasPrefix(msg, "DEBUG: "):
			_ = w.Debug(msg)
		default:
			_ = w.Info(msg)
		}
	}
	closeLog = func() {
		mu.Lock()
		defer mu.Unlock()
		closed = true
		if w != nil {
			w.Close()
			w = nil
		}
	}
	return logf, closeLog
}

// limitedBuffer is an io.Writer, safe for concurrent use, that keeps the
// first max bytes written to it and discards the rest.
type limitedBuffer struct {
	max int

	mu  sync.Mutex
	buf bytes.Buffer
}

// Write keeps what fits of p and always reports success.
func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// String returns the kept bytes.
func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
