package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/userspace"
)

// newUserspaceCommand runs the embedded userspace WireGuard device:
// `wg-quick userspace [-f|--foreground] IF`. In the foreground (for
// containers and debugging, like wireguard-go -f) it logs to stderr and
// stops on SIGINT/SIGTERM or when the interface is deleted; otherwise it
// starts itself detached and returns once the device answers on
// /var/run/wireguard/IF.sock, its log going to syslog (tag wgtools-IF).
// LOG_LEVEL=verbose|error|silent sets the logging, as for wireguard-go.
func newUserspaceCommand(e *env) *cobra.Command {
	var foreground bool
	cmd := &cobra.Command{
		Use:   "userspace [-f] INTERFACE",
		Short: "run the embedded userspace WireGuard device",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if !config.IsInterfaceName(name) {
				return fmt.Errorf("%s is not a valid interface name", config.Quote(name))
			}
			if !foreground {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				_, err = userspace.Spawn(exe, []string{"userspace", "--foreground", name}, name, os.Environ(), 10*time.Second)
				return err
			}
			// A hangup (the terminal of a foreground run going away) must
			// not kill the device without removing its socket.
			signal.Ignore(syscall.SIGHUP)
			level := userspace.LogLevelFromEnv(os.Getenv("LOG_LEVEL"))
			opts := userspace.Options{LogLevel: level, Logf: func(f string, a ...any) { fmt.Fprintf(e.stderr, f+"\n", a...) }}
			opts.AfterFirstRequest = userspace.PauseGCForStartup()
			// Spawned by up: logs go to syslog and readiness to the parent;
			// run by hand: stderr.
			return userspace.Daemon(cmd.Context(), name, opts)
		},
	}
	cmd.Flags().BoolVarP(&foreground, "foreground", "f", false, "stay in the foreground, logging to stderr")
	return cmd
}
