package nettest

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// InstalledReferenceDir is where Debian's wireguard-tools package installs
// wg and wg-quick.
const InstalledReferenceDir = "/usr/bin"

// UnpackedReferenceDir holds a copy of wireguard-tools' programs unpacked
// from its .deb (scripts/install-test-deps makes it where our package has
// replaced wireguard-tools, so that /usr/bin holds ours): the bash wg-quick
// puts its own directory first in PATH, so the copy runs the copy's wg.
const UnpackedReferenceDir = "/var/lib/wgtools-reference/usr/bin"

// ReferenceDir holds the reference wireguard-tools the differential tests
// compare with: InstalledReferenceDir while it holds the C wg(8), else
// UnpackedReferenceDir. Tests never look the reference up in PATH: after
// `make install`, /usr/local/bin comes first and holds ours, and a
// comparison of ours with ours cannot fail.
var ReferenceDir = referenceDir(InstalledReferenceDir, UnpackedReferenceDir)

// referenceDir is the first of dirs whose wg is the C wg(8); the first of
// them when none is (Reference then says why).
func referenceDir(dirs ...string) string {
	for _, d := range dirs {
		if checkReference(filepath.Join(d, "wg"), "wg") == nil {
			return d
		}
	}
	return dirs[0]
}

// Reference returns the path of the reference program name, "wg" or
// "wg-quick", in ReferenceDir. A missing reference skips the test, or fails
// it in CI (see Require). A file there that is not the reference fails the
// test always: wg must be a C program (an ELF executable that is not a Go
// binary), wg-quick a bash script.
func Reference(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(ReferenceDir, name)
	_, err := os.Stat(path)
	Require(t, err == nil, fmt.Sprintf("reference %s: %v", path, err))
	if err := checkReference(path, name); err != nil {
		t.Fatalf("the reference the differential tests found is not wireguard-tools: %v", err)
	}
	return path
}

// checkReference says why the file at path is not the reference name, if
// it is not.
func checkReference(path, name string) error {
	switch name {
	case "wg":
		f, err := elf.Open(path)
		if err != nil {
			return fmt.Errorf("%s is not an ELF executable: %w", path, err)
		}
		defer f.Close()
		for _, s := range []string{".go.buildinfo", ".note.go.buildid", ".gopclntab"} {
			if f.Section(s) != nil {
				return fmt.Errorf("%s is a Go program (section %s), not the C wg(8)", path, s)
			}
		}
		return nil
	case "wg-quick":
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(b, []byte("#!/bin/bash")) || !bytes.Contains(b, []byte("wg-quick")) {
			return fmt.Errorf("%s is not the bash wg-quick(8)", path)
		}
		return nil
	}
	return fmt.Errorf("no reference program %q", name)
}

// RunReference runs the reference program name (see Reference) with args
// and the given standard input, invoked as plain name (argv[0] is what wg
// and wg-quick print in their usage and error texts). It returns the output
// and the exit code; a non-zero exit is not a failure. The test fails if
// the program cannot be started, is killed by a signal, or runs longer than
// 30 seconds.
func RunReference(t testing.TB, name, stdin string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	path := Reference(t, name)
	return runAs(t, commandTimeout, func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, path, args...)
		cmd.Args[0] = name
		return cmd
	}, stdin)
}

// RunWG runs the reference wg(8); see RunReference.
func RunWG(t testing.TB, stdin string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return RunReference(t, "wg", stdin, args...)
}
