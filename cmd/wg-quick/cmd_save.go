package main

import (
	"context"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/quick"
)

// saveFlags are save's options; each may be given once, before CONFIG.
var saveFlags = []string{"--dry-run", "--force", "--canonical"}

// newSaveCommand builds `wg-quick save [--dry-run] [--force] [--canonical]
// CONFIG`. Without options it is the reference's `save CONFIG`, except
// that the file is edited in place (see quick.Env.Save): --canonical
// writes it from scratch, byte for byte as the reference does; --dry-run
// prints the diff and writes nothing; --force saves over a file edited
// since it was last applied or saved.
func newSaveCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:                "save",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			set := map[string]bool{}
			for len(args) > 1 && isSaveFlag(args[0]) && !set[args[0]] {
				set[args[0]], args = true, args[1:]
			}
			if len(args) != 1 || isSaveFlag(args[0]) {
				e.usage(e.stderr)
				return errFailed
			}
			file, iface, err := e.locate(args[0])
			if err != nil {
				return err
			}
			opts := quick.SaveOptions{DryRun: set["--dry-run"], Force: set["--force"], Canonical: set["--canonical"], Out: e.stdout}
			return e.save(cmd.Context(), file, iface, opts)
		},
	}
}

func isSaveFlag(s string) bool { return slices.Contains(saveFlags, s) }

func (e *env) save(ctx context.Context, file, iface string, opts quick.SaveOptions) error {
	return e.withQuick(file, iface, func(q *quick.Env, cfg *config.Config, _ []string) error {
		return q.Save(ctx, iface, cfg, file, opts)
	})
}

// saveCanonical is WG_QUICK_SAVE=canonical: SaveConfig on down writes the
// file as the reference does.
func saveCanonical() bool { return os.Getenv("WG_QUICK_SAVE") == "canonical" }
