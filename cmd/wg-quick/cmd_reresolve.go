package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/quick"
)

// newReresolveCommand builds `wg-quick reresolve CONFIG`: the peers whose
// Endpoint is a host name and whose latest handshake is stale get the
// name's current address (see quick.Env.Reresolve). It is meant for a
// timer, systemd/wg-quick-reresolve@.timer, like wireguard-tools'
// contrib/reresolve-dns.
func newReresolveCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:                "reresolve",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			file, iface, err := e.locate(args[0])
			if err != nil {
				return err
			}
			return e.reresolve(cmd.Context(), file, iface)
		},
	}
}

func (e *env) reresolve(ctx context.Context, file, iface string) error {
	return e.withQuick(file, iface, func(q *quick.Env, cfg *config.Config, _ []string) error {
		return q.Reresolve(ctx, iface, cfg)
	})
}
