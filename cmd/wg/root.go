package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

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

// subcommands is wg's table, in the order its usage text lists them.
var subcommands = []struct{ name, description string }{
	{"show", "Shows the current configuration and device information"},
	{"showconf", "Shows the current configuration of a given WireGuard interface, for use with `setconf'"},
	{"set", "Change the current configuration, add peers, remove peers, or change peers"},
	{"setconf", "Applies a configuration file to a WireGuard interface"},
	{"addconf", "Appends a configuration file to a WireGuard interface"},
	{"syncconf", "Synchronizes a configuration file to a WireGuard interface"},
	{"genkey", "Generates a new private key and writes it to stdout"},
	{"genpsk", "Generates a new preshared key and writes it to stdout"},
	{"pubkey", "Reads a private key from stdin and writes a public key to stdout"},
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
			fmt.Fprintf(stdout, "wireguard-tools v%s - https://git.zx2c4.com/wireguard-tools/\n", version)
			return 0
		case "-h", "--help", "help":
			writeUsage(stdout, e.prog)
			return 0
		}
	}
	if len(rest) == 0 {
		rest = []string{"show"}
	}
	defer func() {
		if e.dev != nil {
			e.dev.Close()
		}
	}()
	root := newRootCommand(e)
	sub, _, err := root.Find(rest)
	if err != nil || sub == root || sub.Name() != rest[0] {
		fmt.Fprintf(stderr, "Invalid subcommand: %s\n", config.Quote(rest[0]))
		writeUsage(stderr, e.prog)
		return 1
	}
	root.SetArgs(rest)
	root.SetContext(ctx)
	if err := root.Execute(); err != nil {
		if !errors.Is(err, errFailed) {
			fmt.Fprintln(stderr, err)
		}
		return 1
	}
	return 0
}

// newRootCommand builds the cobra tree. wg has no options in the getopt
// sense (a subcommand's --help is just an argument it does not expect), so
// every subcommand disables flag parsing and checks its own arguments.
func newRootCommand(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:               e.prog,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetHelpCommand(&cobra.Command{Hidden: true})
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.AddCommand(
		newShowCommand(e),
		newShowconfCommand(e),
		newSetCommand(e),
		newSetconfCommand(e, "setconf"),
		newSetconfCommand(e, "addconf"),
		newSetconfCommand(e, "syncconf"),
		newGenkeyCommand(e, "genkey"),
		newGenkeyCommand(e, "genpsk"),
		newPubkeyCommand(e),
	)
	return root
}

// stdoutFile returns w as an *os.File when it is one, for the checks wg
// makes on its standard output.
func stdoutFile(w io.Writer) (*os.File, bool) {
	f, ok := w.(*os.File)
	return f, ok
}
