package userspace

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the daemon and as helpers of the tests: when
// one of these environment variables is set, TestMain does that job instead
// of running tests. Tests start it as os.Executable() with -test.run=^$.
const (
	// childEnv holds an interface name: run Daemon for it until SIGTERM
	// or SIGINT, logging to stderr unless spawned.
	childEnv = "WGTOOLS_USERSPACE_TEST_CHILD"
	// helperEnv holds the name of a helper mode for the Spawn tests; see
	// runHelper.
	helperEnv = "WGTOOLS_USERSPACE_TEST_HELPER"
	// markerEnv holds the path of the file the "ready" helper creates
	// once it has written to stderr after being ready.
	markerEnv = "WGTOOLS_USERSPACE_TEST_MARKER"
	// spawnArgsEnv holds, for the "spawner" helper, the network namespace
	// and interface name of the daemon to spawn, separated by a space.
	spawnArgsEnv = "WGTOOLS_USERSPACE_TEST_SPAWN"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		os.Exit(runChild(name))
	}
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

// runChild is the daemon the tests start, as cmd/wg-quick's hidden
// subcommand does: it runs Daemon until SIGTERM or SIGINT.
func runChild(name string) int {
	os.Unsetenv(childEnv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	opts := Options{
		Logf:     log.New(os.Stderr, "", log.Lmicroseconds).Printf,
		LogLevel: LogLevelFromEnv(os.Getenv("LOG_LEVEL")),
	}
	if err := Daemon(ctx, name, opts); err != nil {
		fmt.Fprintf(os.Stderr, "daemon %s: %v\n", name, err)
		return 1
	}
	return 0
}

// runHelper plays a daemon, or its spawner, for the Spawn tests:
//
//   - ready: writes to stderr, reports ready, writes to stderr again (which
//     must not kill it with SIGPIPE), creates the marker file with the value
//     of ReadyFDEnv as contents, and waits for SIGTERM;
//   - fail: writes a line to stderr and reports a failure;
//   - exists: reports a failure wrapping fs.ErrExist;
//   - panic: panics before it is ready;
//   - spawner: spawns the daemon for spawnArgsEnv, prints its process ID
//     and exits, as wg-quick up does;
//   - harden: runs Harden and prints "dumpable N" (PR_GET_DUMPABLE), then
//     its /proc/self/status.
func runHelper(mode string) int {
	os.Unsetenv(helperEnv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	ready, fail := ReadyFromEnv()
	switch mode {
	case "ready":
		fmt.Fprintln(os.Stderr, "helper: before ready")
		ready()
		for range 1000 {
			fmt.Fprintln(os.Stderr, "helper: after ready")
		}
		if err := os.WriteFile(os.Getenv(markerEnv), []byte(os.Getenv(ReadyFDEnv)), 0o600); err != nil {
			return 1
		}
		<-ctx.Done()
		return 0
	case "fail":
		fmt.Fprintln(os.Stderr, "helper: a line on stderr")
		fail(errors.New("helper failed on purpose"))
		return 1
	case "exists":
		fail(fmt.Errorf("interface helper already exists: %w", fs.ErrExist))
		return 1
	case "panic":
		panic("helper panics on purpose")
	case "spawner":
		return runSpawner()
	case "harden":
		return runHardenHelper()
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	return 2
}

// exitCgo is the harden helper's exit status when Harden cannot drop
// capabilities because the binary was built with cgo.
const exitCgo = 3

// spawnTimeout bounds how long the tests wait for a spawned daemon to get
// ready. It is generous: the machines running the tests may be busy.
const spawnTimeout = 30 * time.Second

// runSpawner spawns a daemon for the namespace and interface in
// spawnArgsEnv, prints its process ID and returns its exit code.
func runSpawner() int {
	nsName, name, ok := strings.Cut(os.Getenv(spawnArgsEnv), " ")
	if !ok {
		fmt.Fprintf(os.Stderr, "%s=%q: want NETNS IFNAME\n", spawnArgsEnv, os.Getenv(spawnArgsEnv))
		return 2
	}
	exe, args, env, err := daemonCommand(nsName, name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pid, err := Spawn(exe, args, name, env, spawnTimeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(pid)
	return 0
}

// daemonCommand returns the program, arguments and environment that start
// this test binary as the daemon for interface name in network namespace
// nsName.
func daemonCommand(nsName, name string) (exe string, args, env []string, err error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, nil, err
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		return "", nil, nil, err
	}
	env = withoutTestEnv(os.Environ())
	env = append(env, childEnv+"="+name)
	return ip, []string{"netns", "exec", nsName, self, "-test.run=^$"}, env, nil
}

// withoutTestEnv returns env without the variables that select a mode of
// the test binary.
func withoutTestEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case childEnv, helperEnv, markerEnv, spawnArgsEnv, ReadyFDEnv:
			continue
		}
		out = append(out, kv)
	}
	return out
}
