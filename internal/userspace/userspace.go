package userspace

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Log levels for Options.LogLevel, as wireguard-go's LOG_LEVEL values
// "silent", "error" and "verbose". The zero value is LogError,
// wireguard-go's default.
const (
	// LogSilent logs nothing.
	LogSilent = -1
	// LogError logs errors only.
	LogError = 0
	// LogVerbose logs errors and debugging messages.
	LogVerbose = 1
)

// DefaultMTU is the MTU of the TUN interface when Options.MTU is 0. It is
// wireguard-go's default, and the kernel module's.
const DefaultMTU = 1420

// SocketDir is the directory of the UAPI sockets,
// SocketDir/<interface>.sock. The wireguard-go library and wg(8) both
// hard-code it, so it cannot be changed.
const SocketDir = "/var/run/wireguard"

// ReadyFDEnv names the environment variable through which [Spawn] tells the
// daemon the number of the inherited file descriptor it reports readiness
// or failure on. [ReadyFromEnv] reads it.
const ReadyFDEnv = "WGTOOLS_READY_FD"

// Options configures [Run].
type Options struct {
	// Logf receives the device's log messages, already filtered by
	// LogLevel, one message per call and without a trailing newline. Each
	// starts with "ERROR: (<name>) " or "DEBUG: (<name>) ", as wireguard-go's
	// do. If nil, messages are discarded.
	Logf func(format string, args ...any)
	// LogLevel is LogSilent, LogError (the zero value) or LogVerbose; see
	// [LogLevelFromEnv].
	LogLevel int
	// MTU is the TUN interface's MTU; 0 means DefaultMTU.
	MTU int
	// AfterFirstRequest, if set, is called once the first UAPI request
	// has been answered (the configuration `wg-quick up` sends).
	AfterFirstRequest func()
}

// StartupGCWindow bounds how long PauseGCForStartup keeps the collector
// off.
const StartupGCWindow = 5 * time.Second

// PauseGCForStartup turns the garbage collector off until resume is
// called or StartupGCWindow has passed, whichever is first. A device's
// start allocates in bursts (the TUN's batch buffers, then a configuration
// of up to thousands of peers, nearly all of it live) on a heap that starts
// small, so the collector would run cycle after cycle finding little
// garbage: a quarter of a one-peer `wg-quick up`, a tenth of the
// device's share of a 1,000-peer one. The daemon resumes it after the
// first UAPI request (Options.AfterFirstRequest).
func PauseGCForStartup() (resume func()) {
	old := debug.SetGCPercent(-1)
	var once sync.Once
	restore := func() { once.Do(func() { debug.SetGCPercent(old) }) }
	t := time.AfterFunc(StartupGCWindow, restore)
	return func() {
		t.Stop()
		restore()
	}
}

// LogLevelFromEnv maps the value of wireguard-go's LOG_LEVEL environment
// variable to a log level: "verbose" and "debug" to LogVerbose, "error" to
// LogError, "silent" to LogSilent, and anything else, including "", to
// LogError, as wireguard-go does.
func LogLevelFromEnv(v string) int {
	switch v {
	case "verbose", "debug":
		return LogVerbose
	case "silent":
		return LogSilent
	default:
		return LogError
	}
}

// levelLogf returns the printf-style functions for verbose and error
// messages that opts asks for, prefixed like wireguard-go's messages for
// interface name. A level that is not logged gets a function that discards.
func levelLogf(opts Options, name string) (verbosef, errorf func(format string, args ...any)) {
	discard := func(string, ...any) {}
	verbosef, errorf = discard, discard
	if opts.Logf == nil {
		return verbosef, errorf
	}
	prefixed := func(prefix string) func(string, ...any) {
		// The prefix is escaped, so that a name is never taken for verbs.
		prefix = strings.ReplaceAll(fmt.Sprintf("%s: (%s) ", prefix, name), "%", "%%")
		return func(format string, args ...any) { opts.Logf(prefix+format, args...) }
	}
	if opts.LogLevel >= LogVerbose {
		verbosef = prefixed("DEBUG")
	}
	if opts.LogLevel >= LogError {
		errorf = prefixed("ERROR")
	}
	return verbosef, errorf
}

// socketPath returns the path of the UAPI socket of interface name.
func socketPath(name string) string {
	return filepath.Join(SocketDir, name+".sock")
}

// maxNameLen is IFNAMSIZ-1, the kernel's limit on interface names.
const maxNameLen = 15

// checkName returns an error if name is not a valid interface name by the
// kernel's rules (dev_valid_name in net/core/dev.c: 1 to 15 bytes, not "."
// or "..", no '/', ':' or white space). Such a name is also safe in the
// socket path. It also refuses '%', which would make TUNSETIFF pick a name
// from a template ("wg%d" becomes "wg0") that the socket would not match;
// wg-quick allows only [a-zA-Z0-9_=+.-] anyway.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("invalid interface name %q: empty", name)
	case len(name) > maxNameLen:
		return fmt.Errorf("invalid interface name %q: longer than %d bytes", name, maxNameLen)
	case name == "." || name == "..":
		return fmt.Errorf("invalid interface name %q", name)
	case strings.ContainsAny(name, "/: \t\n\v\f\r%"):
		return fmt.Errorf("invalid interface name %q: contains '/', ':', '%%' or white space", name)
	}
	return nil
}

// existsError is an error saying that the interface already exists. It
// wraps fs.ErrExist, so that callers can tell it apart, for example to print
// wg-quick's "`wg0' already exists".
type existsError string

// Error returns the message.
func (e existsError) Error() string { return string(e) }

// Is reports whether target is fs.ErrExist.
func (e existsError) Is(target error) bool { return target == fs.ErrExist }

// Bytes that start the report a daemon sends Spawn on its readiness pipe.
const (
	// reportReady says the device is ready. It is the whole report.
	reportReady = 'R'
	// reportFailed is followed by the text of the error that stopped the
	// daemon.
	reportFailed = 'E'
	// reportExists is like reportFailed for an error wrapping
	// fs.ErrExist, so that Spawn can wrap it too.
	reportExists = 'X'
)

// failureReport returns the report of a daemon that failed with err.
func failureReport(err error) []byte {
	tag := byte(reportFailed)
	if errors.Is(err, fs.ErrExist) {
		tag = reportExists
	}
	return append([]byte{tag}, err.Error()...)
}
