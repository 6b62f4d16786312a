//go:build faultinject

package main

import (
	"fmt"
	"os"

	"github.com/wgtools/wgtools/internal/faultinject"
	"github.com/wgtools/wgtools/internal/quick"
)

// Only binaries built with -tags faultinject read WGTOOLS_FAULT_AT; the
// end-to-end rollback tests build one.
func init() {
	injectFaults = func(e *env, q *quick.Env) error {
		spec := os.Getenv(faultinject.EnvVar)
		if spec == "" {
			return nil
		}
		inj, err := faultinject.Parse(spec)
		if err != nil {
			return err
		}
		inj.Log = func(s string) { fmt.Fprintln(e.stderr, s) }
		inj.Wrap(q)
		return nil
	}
}
