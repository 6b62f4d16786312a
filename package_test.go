package wgtools_test

// Tests of `make package` (scripts/package): the .deb, .rpm and .apk hold
// what `make install PREFIX=/usr` installs, declare that they replace
// wireguard-tools, are the same bytes when built twice, and the .deb passes
// lintian but for the tags kept below.

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/nettest"
)

// keptLintian are the lintian tags the .deb is allowed, each with why.
var keptLintian = map[string]string{
	// wg and wg-quick are Go programs built without cgo: static by
	// design, so that one binary runs on any distribution's libc.
	"statically-linked-binary": "static Go binaries, by design",
	// The package is not (yet) uploaded to Debian: no ITP bug to close.
	"initial-upload-closes-no-bugs": "not a Debian upload",
	// /etc/wireguard holds private keys; wireguard-tools ships it 0700 too.
	"non-standard-dir-perm": "/etc/wireguard is 0700 for the keys in it",
	// wg-quick@.service is WantedBy=wg-quick.target, as upstream's unit:
	// the target starts and stops every enabled instance.
	"systemd-service-file-refers-to-unusual-wantedby-target": "upstream's wg-quick.target layout",
}

// buildPackages runs scripts/package into a new directory with a fixed
// version and time, and returns it.
func buildPackages(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command("./scripts/package", out)
	cmd.Env = cleanEnv(append(slices.Clone(makeKnobs), "VERSION", "SOURCE_DATE_EPOCH"), "VERSION=9.8.7", "SOURCE_DATE_EPOCH=1700000000")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/package: %v\n%s", err, b)
	}
	return out
}

func mustOutput(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

// installList is what `make install PREFIX=/usr` installs with the units
// in unitDir, as the packages hold it: man pages gzipped, plus extra.
func installList(t *testing.T, unitDir string, extra ...string) []string {
	t.Helper()
	root := t.TempDir()
	runMake(t, false, nil, "install", "PREFIX=/usr", "DESTDIR="+root, "SYSTEMDUNITDIR="+unitDir)
	var files []string
	for _, f := range installedFiles(t, root) {
		if strings.HasSuffix(f, ".8") {
			f += ".gz"
		}
		files = append(files, "/"+f)
	}
	files = append(files, extra...)
	slices.Sort(files)
	return files
}

func TestPackages(t *testing.T) {
	for _, tool := range []string{"make", "go", "dpkg-deb", "rpm", "lintian", "tar"} {
		nettest.RequireBinary(t, tool)
	}
	dir := buildPackages(t)
	const deb, rpm, apk = "wgtools_9.8.7-1_amd64.deb", "wgtools-9.8.7-1.x86_64.rpm", "wgtools_9.8.7-r1_x86_64.apk"
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{deb, rpm, apk} {
		if !strings.Contains(string(sums), "  "+p+"\n") {
			t.Errorf("SHA256SUMS lacks %s:\n%s", p, sums)
		}
	}

	t.Run("reproducible", func(t *testing.T) {
		again, err := os.ReadFile(filepath.Join(buildPackages(t), "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(sums), string(again)); diff != "" {
			t.Errorf("a second build differs (-first +second):\n%s", diff)
		}
	})

	t.Run("deb", func(t *testing.T) {
		path := filepath.Join(dir, deb)
		fields := mustOutput(t, "dpkg-deb", "-f", path, "Package", "Version", "Provides", "Conflicts", "Replaces")
		want := "Package: wgtools\nVersion: 9.8.7-1\nProvides: wireguard-tools (= 1.0.20260223)\nConflicts: wireguard-tools\nReplaces: wireguard-tools\n"
		if diff := cmp.Diff(want, fields); diff != "" {
			t.Errorf("control fields (-want +got):\n%s", diff)
		}
		var files []string
		stamp := time.Unix(1700000000, 0).UTC().Format("2006-01-02 15:04")
		listing := mustOutput(t, "dpkg-deb", "-c", path)
		for _, l := range strings.Split(strings.TrimSpace(listing), "\n") {
			if !strings.Contains(l, stamp) {
				t.Errorf("not dated SOURCE_DATE_EPOCH (%s): %s", stamp, l)
			}
			f := strings.TrimPrefix(strings.Fields(l)[5], ".")
			if !strings.HasSuffix(f, "/") {
				files = append(files, f)
			}
		}
		want2 := installList(t, "/lib/systemd/system", "/usr/share/doc/wgtools/copyright", "/usr/share/doc/wgtools/changelog.Debian.gz")
		if diff := cmp.Diff(want2, files); diff != "" {
			t.Errorf("files (-make install +deb):\n%s", diff)
		}
		if !strings.Contains(listing, "drwx------ root/root") {
			t.Error("/etc/wireguard is not 0700")
		}
		// lintian exits 2 when it reports error tags, and 1 when it could
		// not check the package. A run that checked nothing must fail, not
		// pass with no tags read: the package always draws
		// statically-linked-binary, so a run without it did not check.
		out, err := exec.Command("lintian", "--tag-display-limit", "0", path).CombinedOutput()
		var exit *exec.ExitError
		if err != nil && (!errors.As(err, &exit) || exit.ExitCode() != 2) {
			t.Fatalf("lintian did not check the package: %v\n%s", err, out)
		}
		seen := map[string]bool{}
		for _, l := range strings.Split(string(out), "\n") {
			f := strings.Fields(l)
			if len(f) < 3 || (f[0] != "E:" && f[0] != "W:" && f[0] != "I:") {
				continue
			}
			seen[f[2]] = true
			if _, ok := keptLintian[f[2]]; !ok {
				t.Errorf("lintian: %s", l)
			}
		}
		if !seen["statically-linked-binary"] {
			t.Errorf("lintian reported no statically-linked-binary, so it checked nothing:\n%s", out)
		}
	})

	t.Run("rpm", func(t *testing.T) {
		path := filepath.Join(dir, rpm)
		got := mustOutput(t, "rpm", "-qp", "--qf", "%{NAME} %{VERSION}-%{RELEASE}\\n", path) +
			mustOutput(t, "rpm", "-qp", "--provides", path) +
			mustOutput(t, "rpm", "-qp", "--conflicts", path) +
			mustOutput(t, "rpm", "-qp", "--obsoletes", path)
		want := "wgtools 9.8.7-1\nwireguard-tools = 1.0.20260223\nwgtools = 9.8.7-1\nwgtools(x86-64) = 9.8.7-1\nwireguard-tools\nwireguard-tools\n"
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("metadata (-want +got):\n%s", diff)
		}
		files := strings.Split(strings.TrimSpace(mustOutput(t, "rpm", "-qpl", path)), "\n")
		files = slices.DeleteFunc(files, func(f string) bool { return f == "/etc/wireguard" })
		slices.Sort(files)
		if diff := cmp.Diff(installList(t, "/usr/lib/systemd/system", "/usr/share/doc/wgtools/copyright"), files); diff != "" {
			t.Errorf("files (-make install +rpm):\n%s", diff)
		}
	})

	t.Run("apk", func(t *testing.T) {
		path := filepath.Join(dir, apk)
		info := mustOutput(t, "tar", "-xzOf", path, ".PKGINFO")
		for _, line := range []string{"pkgname = wgtools", "pkgver = 9.8.7-r1", "provides = wireguard-tools=1.0.20260223", "replaces = wireguard-tools"} {
			if !strings.Contains(info, line+"\n") {
				t.Errorf(".PKGINFO lacks %q:\n%s", line, info)
			}
		}
		var files []string
		for _, f := range strings.Split(strings.TrimSpace(mustOutput(t, "tar", "-tzf", path)), "\n") {
			if !strings.HasSuffix(f, "/") && !strings.HasPrefix(f, ".") {
				files = append(files, "/"+f)
			}
		}
		slices.Sort(files)
		if diff := cmp.Diff(installList(t, "/usr/lib/systemd/system", "/usr/share/doc/wgtools/copyright"), files); diff != "" {
			t.Errorf("files (-make install +apk):\n%s", diff)
		}
	})
}
