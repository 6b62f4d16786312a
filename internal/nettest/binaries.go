package nettest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

// builds holds the programs built for this test process: each is built
// once, on first use, however many tests ask for it, into one directory
// that Main removes when the tests are done.
var builds struct {
	sync.Mutex
	main  bool // Main runs this process's tests
	dir   string
	done  map[string]string // file name → path
	fails map[string]string // file name → why its build failed
}

// Main runs a test package's tests and then removes the programs
// OurBinary and StockWireGuardGo built for them; a package whose tests use
// those calls it from its TestMain.
func Main(m *testing.M) {
	builds.Lock()
	builds.main = true
	builds.Unlock()
	code := m.Run()
	builds.Lock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	builds.Unlock()
	os.Exit(code)
}

// OurBinary returns the path of this module's program name (the package
// ./cmd/NAME), built with the given build tags. Where WGTOOLS_TEST_BINDIR
// is set, it is the prebuilt NAME (NAME.TAG for one tag) there, which must
// exist; otherwise the program is built with go, once per test process
// (see Main). The test fails if the build fails.
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
	file := name
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
		file += "." + strings.Join(tags, ".")
	}
	return goBuild(t, file, append(args, "./cmd/"+name)...)
}

// goBuild runs `go build -o DIR/file ARGS...` in the module's root, once
// per test process, and returns the program's path; later calls return
// the same path, or fail the same way.
func goBuild(t testing.TB, file string, args ...string) string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	if !builds.main {
		t.Fatal("nettest: call nettest.Main(m) from the package's TestMain, which removes the programs built for its tests")
	}
	if why, ok := builds.fails[file]; ok {
		t.Fatal(why)
	}
	if path, ok := builds.done[file]; ok {
		return path
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "wgtools-test-bin")
		if err != nil {
			t.Fatal(err)
		}
		builds.dir, builds.done, builds.fails = dir, map[string]string{}, map[string]string{}
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(builds.dir, file)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, RequireBinary(t, "go"), append([]string{"build", "-o", out}, args...)...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		builds.fails[file] = fmt.Sprintf("%s: %v\n%s", cmd, err, b)
		t.Fatal(builds.fails[file])
	}
	builds.done[file] = out
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
	// Named wireguard-go, as the daemon is named wherever it runs.
	return goBuild(t, "stock/wireguard-go", "golang.zx2c4.com/wireguard")
}
