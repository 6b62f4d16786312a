package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/quick"
)

// dryRunFlag is reload's one option.
const dryRunFlag = "--dry-run"

// newReloadCommand builds `wg-quick reload [--dry-run] CONFIG` under the
// name verb ("reload", or its alias "syncconf", named after wg syncconf):
// it brings the running interface to the file's state with the fewest
// changes (see quick.Env.Reload); --dry-run prints the plan and changes
// nothing. It is registered once per name so that root's grammar check,
// which compares the name found with the word given, accepts both.
func newReloadCommand(e *env, verb string) *cobra.Command {
	return &cobra.Command{
		Use:                verb,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			dryRun := false
			if len(args) == 2 && args[0] == dryRunFlag {
				dryRun, args = true, args[1:]
			}
			if len(args) != 1 || args[0] == dryRunFlag {
				e.usage(e.stderr)
				return errFailed
			}
			file, iface, err := e.locate(args[0])
			if err != nil {
				return err
			}
			return e.reload(cmd.Context(), file, iface, dryRun)
		},
	}
}

// isDryRunForm reports whether args (after the program name) are
// `reload --dry-run CONFIG` or `syncconf --dry-run CONFIG`, the one
// three-word form root accepts besides check's and userspace's.
func isDryRunForm(args []string) bool {
	return len(args) == 3 && (args[0] == "reload" || args[0] == "syncconf") && args[1] == dryRunFlag
}

func (e *env) reload(ctx context.Context, file, iface string, dryRun bool) error {
	return e.withQuick(file, iface, func(q *quick.Env, cfg *config.Config, warnings []string) error {
		// Up prints wg's parse warnings where `wg addconf` would; reload
		// sends no file to wg, so they come first.
		for _, w := range warnings {
			fmt.Fprintln(e.stderr, w)
		}
		return q.Reload(ctx, iface, cfg, quick.ReloadOptions{DryRun: dryRun})
	})
}
