package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/sysexec"
)

const usageText = `Usage: %s [ up | down | save | strip ] [ CONFIG_FILE | INTERFACE ]

  CONFIG_FILE is a configuration file, whose filename is the interface name
  followed by ` + "`" + `.conf'. Otherwise, INTERFACE is an interface name, with
  configuration found at /etc/wireguard/INTERFACE.conf. It is to be readable
  by wg(8)'s ` + "`" + `setconf' sub-command, with the exception of the following additions
  to the [Interface] section, which are handled by %s:

  - Address: may be specified one or more times and contains one or more
    IP addresses (with an optional CIDR mask) to be set for the interface.
  - DNS: an optional DNS server to use while the device is up.
  - MTU: an optional MTU for the interface; if unspecified, auto-calculated.
  - Table: an optional routing table to which routes will be added; if
    unspecified or ` + "`" + `auto', the default table is used. If ` + "`" + `off', no routes
    are added.
  - PreUp, PostUp, PreDown, PostDown: script snippets which will be executed
    by bash(1) at the corresponding phases of the link, most commonly used
    to configure DNS. The string ` + "`" + `%%i' is expanded to INTERFACE.
  - SaveConfig: if set to ` + "`" + `true', the configuration is saved from the current
    state of the interface upon shutdown.

See wg-quick(8) for more info and examples.
`

type env struct {
	prog   string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// configDir is where a bare interface name's file lives.
	configDir string
}

// errFailed: the message has been printed; exit 1.
var errFailed = errors.New("failed")

func (e *env) usage(w io.Writer) {
	fmt.Fprintf(w, usageText, e.prog, e.prog)
}

// run is wg-quick's main. Its grammar is the reference's: exactly one of
// -h/--help/help prints usage and succeeds; a verb with exactly one
// argument runs; anything else prints usage and fails. The userspace verb
// runs our embedded WireGuard device.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{prog: filepath.Base(args[0]), stdin: stdin, stdout: stdout, stderr: stderr, configDir: "/etc/wireguard"}
	rest := args[1:]
	if len(rest) == 1 && (rest[0] == "--help" || rest[0] == "-h" || rest[0] == "help") {
		e.usage(stderr)
		return 0
	}
	root := &cobra.Command{
		Use:               e.prog,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetHelpCommand(&cobra.Command{Hidden: true})
	root.SetArgs(rest)
	root.SetContext(ctx)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	for _, verb := range []string{"up", "down", "strip"} {
		root.AddCommand(newVerbCommand(e, verb))
	}
	root.AddCommand(newSaveCommand(e), newUserspaceCommand(e), newCheckCommand(e))
	root.AddCommand(newReloadCommand(e, "reload"), newReloadCommand(e, "syncconf"), newReresolveCommand(e))
	sub, _, err := root.Find(rest)
	if len(rest) == 0 || err != nil || sub == root || sub.Name() != rest[0] ||
		(!checksOwnArgs(sub.Name()) && !isDryRunForm(rest) && len(rest) != 2) {
		e.usage(stderr)
		return 1
	}
	if err := root.Execute(); err != nil {
		if errors.Is(err, errCheckWarnings) {
			return checkWarnings
		}
		if !errors.Is(err, errFailed) {
			fmt.Fprintf(stderr, "%s: %v\n", e.prog, err)
		}
		// A failing hook's status is wg-quick's, as under its set -e.
		var ee *sysexec.ExitError
		if errors.As(err, &ee) && ee.Code > 0 && ee.Code < 256 {
			return ee.Code
		}
		return 1
	}
	return 0
}

// checksOwnArgs reports whether a verb checks its own arguments, having
// options of its own: the others take exactly one.
func checksOwnArgs(verb string) bool {
	return verb == "userspace" || verb == "check" || verb == "save"
}

func newVerbCommand(e *env, verb string) *cobra.Command {
	return &cobra.Command{
		Use:                verb,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			file, iface, err := e.locate(args[0])
			if err != nil {
				return err
			}
			switch verb {
			case "strip":
				return e.strip(file)
			case "up":
				return e.up(cmd.Context(), file, iface)
			default:
				return e.down(cmd.Context(), file, iface)
			}
		},
	}
}

// locate finds the configuration file and the interface name as wg-quick
// does: a bare interface name means /etc/wireguard/NAME.conf; otherwise the
// path must end in NAME.conf, and NAME (from the path as given, before
// symlinks are resolved) is the interface. The returned path is resolved.
// A file any user may read is warned about.
func (e *env) locate(arg string) (file, iface string, err error) {
	file, iface, err = e.locateQuiet(arg)
	if err != nil {
		return "", "", err
	}
	fst, err1 := os.Stat(file)
	dst, err2 := os.Stat(filepath.Dir(file))
	if err1 == nil && err2 == nil && fst.Mode().Perm()&dst.Mode().Perm()&0o007 != 0 {
		fmt.Fprintf(e.stderr, "Warning: %s is world accessible\n", config.QuotePath(file))
	}
	return file, iface, nil
}

// locateQuiet is locate without the permission warning.
func (e *env) locateQuiet(arg string) (file, iface string, err error) {
	file = arg
	if config.IsInterfaceName(arg) {
		file = filepath.Join(e.configDir, arg+".conf")
	}
	if _, err := os.Stat(file); err != nil {
		return "", "", fmt.Errorf("%s does not exist", config.QuotePath(file))
	}
	iface, ok := config.InterfaceFromPath(file)
	if !ok {
		return "", "", errors.New("The config file must be a valid interface name, followed by .conf")
	}
	if resolved, err := filepath.EvalSymlinks(file); err == nil {
		if abs, err := filepath.Abs(resolved); err == nil {
			file = abs
		}
	}
	return file, iface, nil
}

func (e *env) strip(file string) error {
	data, err := config.ReadFile(file)
	if err != nil {
		return err
	}
	out, err := config.Strip(data, config.Options{File: file})
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(out)
	return err
}

// parse reads and fully checks a configuration file. It returns wg's
// parse warnings instead of printing them: wg-quick prints them where wg
// parses the file (after `[#] wg addconf`), and not at all on down.
func (e *env) parse(file string) (*config.Config, []byte, []string, error) {
	data, err := config.ReadFile(file)
	if err != nil {
		return nil, nil, nil, err
	}
	var warnings []string
	c, err := config.ParseQuick(data, config.Options{
		File: file,
		Warn: func(_ int, msg string) { warnings = append(warnings, msg) },
	})
	return c, data, warnings, err
}
