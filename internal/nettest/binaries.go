package nettest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binDirEnv names a directory of prebuilt binaries of this module: wg,
// wg-quick, and wg-quick.TAG for builds with a tag (wg-quick.faultinject).
// The VM stage (scripts/vm) sets it, since compiling under emulation takes
// minutes; without it [OurBinary] builds with go.
const binDirEnv = "WGTOOLS_TEST_BINDIR"

// buildTimeout bounds one go build.
const buildTimeout = 5 * time.Minute

// OurBinary returns the path of this module's program name (the package
// ./cmd/NAME), built with the given build tags. Where WGTOOLS_TEST_BINDIR
// is set, it is the prebuilt NAME (NAME.TAG for one tag) there, which must
// exist; otherwise the program is built with go into a temporary directory
// of the test. The test fails if the build fails.
func OurBinary(t testing.TB, name string, tags ...string) string {
	t.Helper()
	if dir := os.Getenv(binDirEnv); dir != "" {
		file := name
		if len(tags) > 0 {
			file += "." + strings.Join(tags, ".")
		}
		p := filepath.Join(dir, file)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", binDirEnv, dir, err)
		}
		return p
	}
	var args []string
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	return goBuild(t, name, append(args, "./cmd/"+name)...)
}

// goBuild runs `go build -o T/out ARGS...` in the module's root, for a
// temporary directory T of the test, and returns the program's path.
func goBuild(t testing.TB, out string, args ...string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(t.TempDir(), out)
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, RequireBinary(t, "go"), append([]string{"build", "-o", out}, args...)...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, b)
	}
	return out
}

// moduleRoot returns the directory holding go.mod, looking up from the
// working directory (a test runs in its package's directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// StockWireGuardGo returns a wireguard-go program built from the
// golang.zx2c4.com/wireguard version this module requires (the library the
// embedded device uses), as `go install golang.zx2c4.com/wireguard@VERSION`
// would build it: the stock daemon to hold the embedded device against.
// Where WGTOOLS_TEST_BINDIR is set, it is the prebuilt wireguard-go.stock
// there. The test fails if the build fails.
func StockWireGuardGo(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv(binDirEnv); dir != "" {
		p := filepath.Join(dir, "wireguard-go.stock")
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", binDirEnv, dir, err)
		}
		return p
	}
	return goBuild(t, "wireguard-go", "golang.zx2c4.com/wireguard")
}
