package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
)

// version is the wireguard-tools release whose behaviour wg reproduces. It
// is printed in the reference's format so that scripts which test the
// version to detect features (such as +/- allowed-ips) keep working.
const version = "1.0.20260223"

// env is what a subcommand may touch: its streams and the name it was
// invoked as (wg prints argv[0] in usage and error texts).
type env struct {
	prog   string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	dev    *device.Client // opened on first use
}

// subcommand is one entry of wg's table: its name, the line the usage text
// gives it, and what runs it. A subcommand receives every argument after its
// name: wg has no options in the getopt sense (a subcommand's --help is just
// an argument it does not expect), so each one checks its own arguments.
type subcommand struct {
	name, description string
	run               func(ctx context.Context, e *env, name string, args []string) error
	// device is set for the subcommands that read or configure a device,
	// whose data (up to a device of 50,000 peers, its text) stays live
	// until wg exits.
	device bool
}

// subcommands is wg's table, in the order its usage text lists them. A
// plain table rather than a command library: wg's grammar is one word and
// the words after it, and `wg genkey` in a loop pays for every package
// initialiser and allocation made before the key is written (see
// bench/README.md for the measurement).
var subcommands = []subcommand{
	{"show", "Shows the current configuration and device information", runShow, true},
	{"showconf", "Shows the current configuration of a given WireGuard interface, for use with `setconf'", runShowconf, true},
	{"set", "Change the current configuration, add peers, remove peers, or change peers", runSet, true},
	{"setconf", "Applies a configuration file to a WireGuard interface", runSetconf, true},
	{"addconf", "Appends a configuration file to a WireGuard interface", runSetconf, true},
	{"syncconf", "Synchronizes a configuration file to a WireGuard interface", runSetconf, true},
	{"genkey", "Generates a new private key and writes it to stdout", runGenkey, false},
	{"genpsk", "Generates a new preshared key and writes it to stdout", runGenkey, false},
	{"pubkey", "Reads a private key from stdin and writes a public key to stdout", runPubkey, false},
}

func writeUsage(w io.Writer, prog string) {
	fmt.Fprintf(w, "Usage: %s <cmd> [<args>]\n\n", prog)
	fmt.Fprintf(w, "Available subcommands:\n")
	for _, s := range subcommands {
		fmt.Fprintf(w, "  %s: %s\n", s.name, s.description)
	}
	fmt.Fprintf(w, "You may pass `--help' to any of these subcommands to view usage.\n")
}

// errFailed is returned by a subcommand that has already written its
// message: the exit status is 1 and nothing more is printed.
var errFailed = errors.New("failed")

// run is wg's main: it dispatches exactly as wg.c does (only an exact
// subcommand name selects it; a lone -h/--help/help or -v/--version/version
// is recognised only as the single argument) and maps every failure to exit
// status 1, the only non-zero status wg uses.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{prog: args[0], stdin: stdin, stdout: stdout, stderr: stderr}
	rest := args[1:]
	if len(rest) == 1 {
		switch rest[0] {
		case "-v", "--version", "version":
			// Plain writes on the paths scripts call in loops (here,
			// genkey, pubkey): the first use of fmt touches its code and
			// reflect's, page faults a C program does not have.
			io.WriteString(stdout, "wireguard-tools v"+version+" - https://git.zx2c4.com/wireguard-tools/\n")
			return 0
		case "-h", "--help", "help":
			writeUsage(stdout, e.prog)
			return 0
		}
	}
	if len(rest) == 0 {
		rest = []string{"show"}
	}
	var sub *subcommand
	for i := range subcommands {
		if subcommands[i].name == rest[0] {
			sub = &subcommands[i]
		}
	}
	if sub == nil {
		fmt.Fprintf(stderr, "Invalid subcommand: %s\n", config.Quote(rest[0]))
		writeUsage(stderr, e.prog)
		return 1
	}
	if sub.device && os.Getenv("GOGC") == "" {
		// The collector's cycles at the default GOGC find little
		// garbage in what a device command builds, and on two cores
		// they take CPU from the device answering: with GOGC 400,
		// `wg showconf` of 10,000 peers uses a third less CPU. GOGC in
		// the environment still wins.
		debug.SetGCPercent(400)
	}
	defer func() {
		if e.dev != nil {
			e.dev.Close()
		}
	}()
	if err := sub.run(ctx, e, sub.name, rest[1:]); err != nil {
		if !errors.Is(err, errFailed) {
			fmt.Fprintln(stderr, err)
		}
		return 1
	}
	return 0
}

// stdoutFile returns w as an *os.File when it is one, for the checks wg
// makes on its standard output.
func stdoutFile(w io.Writer) (*os.File, bool) {
	f, ok := w.(*os.File)
	return f, ok
}
