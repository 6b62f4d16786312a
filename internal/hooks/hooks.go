// Package hooks runs wg-quick's PreUp, PostUp, PreDown and PostDown
// commands the way wg-quick does: `%i` replaced by the interface name, the
// command echoed as `[#] …` on stderr, then run by bash with errexit and
// pipefail on (wg-quick runs its hooks with `eval` in a subshell of a
// `set -e -o pipefail` script, so `false; echo x` fails at `false`), with
// extglob and LC_ALL=C. The first failing hook stops the rest.
package hooks

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wgtools/wgtools/internal/sysexec"
)

// Runner runs hooks for one interface.
type Runner struct {
	Exec  sysexec.Runner
	Iface string
	// Env is the hooks' environment (nil: this process's, with LC_ALL=C).
	Env    []string
	Stdout io.Writer
	Stderr io.Writer
}

// Expand replaces every `%i` with the interface name.
func Expand(hook, iface string) string { return strings.ReplaceAll(hook, "%i", iface) }

// Run runs the hooks in order and returns the first failure.
func (r *Runner) Run(ctx context.Context, hooks []string) error {
	for _, h := range hooks {
		h = Expand(h, r.Iface)
		fmt.Fprintf(r.Stderr, "[#] %s\n", h)
		env := r.Env
		if env == nil {
			env = append(os.Environ(), "LC_ALL=C")
		}
		err := r.Exec.Run(ctx, sysexec.Cmd{
			Name:   "bash",
			Args:   []string{"-e", "-o", "pipefail", "-O", "extglob", "-c", h},
			Env:    env,
			Stdout: r.Stdout,
			Stderr: r.Stderr,
		})
		if err != nil {
			return fmt.Errorf("hook `%s': %w", h, err)
		}
	}
	return nil
}
