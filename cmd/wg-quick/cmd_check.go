package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/quick"
)

// Exit statuses of `wg-quick check`.
const (
	checkClean    = 0
	checkErrors   = 1
	checkWarnings = 2
)

// errCheckWarnings makes run exit with checkWarnings.
var errCheckWarnings = errors.New("warnings")

// newCheckCommand builds `wg-quick check [--json] CONFIG`: every error
// `up` would hit and warnings about likely mistakes, found without
// changing anything and without root. Exit status 0 means clean, 1 errors,
// 2 warnings only.
func newCheckCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:                "check",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON := false
			if len(args) == 2 && args[0] == "--json" {
				asJSON, args = true, args[1:]
			}
			if len(args) != 1 {
				e.usage(e.stderr)
				return errFailed
			}
			return e.check(cmd.Context(), args[0], asJSON)
		},
	}
}

func (e *env) check(ctx context.Context, arg string, asJSON bool) error {
	file, _, err := e.locateQuiet(arg)
	if err != nil {
		return err
	}
	data, err := config.ReadFile(file)
	if err != nil {
		return err
	}
	fst, err1 := os.Stat(file)
	dst, err2 := os.Stat(filepath.Dir(file))
	env := quick.CheckEnv{
		WorldReadable: err1 == nil && err2 == nil && fst.Mode().Perm()&dst.Mode().Perm()&0o007 != 0,
		Writers:       writers(file, fst, dst),
		Resolver:      timeoutResolver{net.DefaultResolver, 3 * time.Second},
	}
	sys, done := quick.NewCheckEnv(e.systemOptions(""))
	defer done()
	env.TableID, env.HaveDNS, env.HaveFirewall = sys.TableID, sys.HaveDNS, sys.HaveFirewall
	findings := quick.Check(ctx, file, data, env)
	errs, warns := 0, 0
	for _, f := range findings {
		if f.Severity == "error" {
			errs++
		} else {
			warns++
		}
	}
	if asJSON {
		if findings == nil {
			findings = []quick.Finding{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			File     string          `json:"file"`
			Errors   int             `json:"errors"`
			Warnings int             `json:"warnings"`
			Findings []quick.Finding `json:"findings"`
		}{file, errs, warns, findings}); err != nil {
			return err
		}
	} else {
		for _, f := range findings {
			fmt.Fprintln(e.stdout, f)
		}
	}
	switch {
	case errs > 0:
		return errFailed
	case warns > 0:
		return errCheckWarnings
	}
	return nil
}

// timeoutResolver bounds each lookup, so check never hangs on DNS.
type timeoutResolver struct {
	r *net.Resolver
	d time.Duration
}

func (t timeoutResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	return t.r.LookupNetIP(ctx, network, host)
}

// writers says who other than root can change the file, whose hooks run
// as root: its owner when that is not root (nor the user running check,
// who would own their files in a test), its group and everyone by its
// mode, and those who can write its directory (and so replace it) when the
// directory is not root's alone. A file that is not regular (a pipe,
// /dev/stdin) is left alone.
func writers(file string, fst, dst fs.FileInfo) []string {
	if fst == nil || dst == nil || !fst.Mode().IsRegular() {
		return nil
	}
	var out []string
	const how = "; its hooks run as root, so they can run commands as root"
	me := uint32(os.Geteuid())
	if st, ok := fst.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && st.Uid != me {
		out = append(out, fmt.Sprintf("the file is owned by uid %d, not root, who can change it%s: chown root it", st.Uid, how))
	}
	if m := fst.Mode().Perm(); m&0o022 != 0 {
		out = append(out, fmt.Sprintf("the file is writable by %s%s: chmod go-w it", who(m), how))
	}
	dir := filepath.Dir(file)
	if st, ok := dst.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && st.Uid != me {
		out = append(out, fmt.Sprintf("its directory %s is owned by uid %d, not root, who can replace the file%s", config.QuotePath(dir), st.Uid, how))
	}
	if m := dst.Mode(); m.Perm()&0o022 != 0 && m&fs.ModeSticky == 0 {
		out = append(out, fmt.Sprintf("its directory %s is writable by %s, who can replace the file%s: chmod go-w it", config.QuotePath(dir), who(m.Perm()), how))
	}
	return out
}

// who names the classes a mode lets write besides the owner.
func who(m fs.FileMode) string {
	switch {
	case m&0o022 == 0o022:
		return "its group and other users"
	case m&0o020 != 0:
		return "its group"
	default:
		return "other users"
	}
}
