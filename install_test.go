package wgtools_test

// Tests of what `make install` puts on a system besides the Go code: the
// Makefile's install and uninstall targets, the systemd units, the bash, zsh
// and fish completions, the man pages, and `make demo`.

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/nettest"
)

// makeKnobs are the variables the Makefile's install targets read. They are
// removed from the environment of the make commands the tests run, so that
// only the values a test passes count.
var makeKnobs = []string{
	"DESTDIR", "PREFIX", "BINDIR", "SYSCONFDIR", "MANDIR", "BASHCOMPDIR",
	"ZSHCOMPDIR", "FISHCOMPDIR", "SYSTEMDUNITDIR", "PKG_CONFIG",
	"WITH_WGQUICK", "WITH_BASHCOMPLETION", "WITH_ZSHCOMPLETION",
	"WITH_FISHCOMPLETION", "WITH_SYSTEMDUNITS",
	// A parent make passes its command-line variables down through these.
	"MAKEFLAGS", "MFLAGS", "MAKELEVEL",
}

// cleanEnv returns the environment without the variables named in drop,
// plus the assignments in add.
func cleanEnv(drop []string, add ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(drop, name) {
			env = append(env, kv)
		}
	}
	return append(env, add...)
}

// runMake runs make in the repository root with the given arguments and
// returns its combined output. It fails the test if make fails, unless
// wantFail is set, in which case it fails the test if make succeeds.
func runMake(t *testing.T, wantFail bool, env []string, args ...string) string {
	t.Helper()
	nettest.RequireBinary(t, "make")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", args...)
	cmd.Env = append(cleanEnv(makeKnobs), env...)
	out, err := cmd.CombinedOutput()
	if wantFail && err == nil {
		t.Fatalf("make %s succeeded, want a failure:\n%s", strings.Join(args, " "), out)
	}
	if !wantFail && err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// installedFiles lists the regular files under root, relative to it.
func installedFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// unitDirOf finds where make installed wg-quick@.service: SYSTEMDUNITDIR
// defaults to pkg-config's answer, which differs between distributions.
func unitDirOf(t *testing.T, files []string) string {
	t.Helper()
	for _, f := range files {
		if filepath.Base(f) == "wg-quick@.service" {
			dir := filepath.Dir(f)
			if !strings.HasSuffix(dir, "lib/systemd/system") {
				t.Errorf("unit installed in %s, want a .../lib/systemd/system directory", dir)
			}
			return dir
		}
	}
	t.Fatalf("no wg-quick@.service among the installed files %q", files)
	return ""
}

// checkUnitPaths checks that the installed service starts the binaries of
// bindir and has no placeholder left.
func checkUnitPaths(t *testing.T, service, bindir string) {
	t.Helper()
	data, err := os.ReadFile(service)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if strings.Contains(text, "@BINDIR@") {
		t.Errorf("%s still contains @BINDIR@", service)
	}
	for _, line := range []string{
		"ExecStart=" + bindir + "/wg-quick up %i",
		"ExecStop=" + bindir + "/wg-quick down %i",
		"ExecReload=" + bindir + "/wg-quick reload %i",
	} {
		if !slices.Contains(strings.Split(text, "\n"), line) {
			t.Errorf("%s has no line %q", service, line)
		}
	}
}

// TestInstallDefaultPrefixKeepsOffPackages: with the default PREFIX
// (/usr/local) every file make install writes is under /usr/local (the
// units in /usr/local/lib/systemd/system, which systemd reads before
// the distribution's) or /etc, and no file a package manager owns is
// among them: installing over or uninstalling a distribution's
// wireguard-tools must not break it (dpkg -V would report its units
// missing). Checked with DESTDIR against the paths dpkg knows here.
func TestInstallDefaultPrefixKeepsOffPackages(t *testing.T) {
	dest := t.TempDir()
	runMake(t, false, nil, "install", "DESTDIR="+dest)
	files := installedFiles(t, dest)
	if unitDir := unitDirOf(t, files); unitDir != "usr/local/lib/systemd/system" {
		t.Errorf("units installed in /%s, want /usr/local/lib/systemd/system", unitDir)
	}
	for _, f := range files {
		if !strings.HasPrefix(f, "usr/local/") && !strings.HasPrefix(f, "etc/") {
			t.Errorf("/%s is outside /usr/local and /etc", f)
		}
	}
	dpkg, err := exec.LookPath("dpkg-query")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("missing prerequisite: dpkg-query (CI=true, so this is a failure, not a skip)")
		}
		t.Log("no dpkg-query: which files packages own is not checked")
		return
	}
	for _, f := range files {
		// dpkg-query -S exits 0 for a path some package owns.
		if out, err := exec.Command(dpkg, "-S", "/"+f).CombinedOutput(); err == nil {
			t.Errorf("make install writes /%s, which a package owns: %s", f, strings.TrimSpace(string(out)))
		}
	}
	// The files of wireguard-tools, when installed, are the case in point.
	if out, err := exec.Command(dpkg, "-L", "wireguard-tools").Output(); err == nil {
		for _, owned := range strings.Fields(string(out)) {
			if slices.Contains(files, strings.TrimPrefix(owned, "/")) {
				t.Errorf("make install writes %s, which wireguard-tools owns", owned)
			}
		}
	}
}

func TestInstallUninstall(t *testing.T) {
	dest := t.TempDir()
	runMake(t, false, nil, "install", "DESTDIR="+dest, "PREFIX=/usr")
	files := installedFiles(t, dest)
	unitDir := unitDirOf(t, files)

	want := []string{
		"usr/bin/wg",
		"usr/bin/wg-quick",
		"usr/share/bash-completion/completions/wg",
		"usr/share/bash-completion/completions/wg-quick",
		"usr/share/fish/vendor_completions.d/wg-quick.fish",
		"usr/share/fish/vendor_completions.d/wg.fish",
		"usr/share/man/man8/wg-quick.8",
		"usr/share/man/man8/wg.8",
		"usr/share/zsh/site-functions/_wg",
		"usr/share/zsh/site-functions/_wg-quick",
		filepath.Join(unitDir, "wg-quick-reresolve@.service"),
		filepath.Join(unitDir, "wg-quick-reresolve@.timer"),
		filepath.Join(unitDir, "wg-quick.target"),
		filepath.Join(unitDir, "wg-quick@.service"),
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("unexpected installed files (-want +got):\n%s", diff)
	}

	// Each file has its mode, and the data files are copies of the sources.
	sources := map[string]string{
		"usr/share/bash-completion/completions/wg":          "completion/wg.bash",
		"usr/share/bash-completion/completions/wg-quick":    "completion/wg-quick.bash",
		"usr/share/fish/vendor_completions.d/wg-quick.fish": "completion/wg-quick.fish",
		"usr/share/fish/vendor_completions.d/wg.fish":       "completion/wg.fish",
		"usr/share/man/man8/wg-quick.8":                     "man/wg-quick.8",
		"usr/share/man/man8/wg.8":                           "man/wg.8",
		"usr/share/zsh/site-functions/_wg":                  "completion/_wg",
		"usr/share/zsh/site-functions/_wg-quick":            "completion/_wg-quick",
		filepath.Join(unitDir, "wg-quick.target"):           "systemd/wg-quick.target",
		filepath.Join(unitDir, "wg-quick-reresolve@.timer"): "systemd/wg-quick-reresolve@.timer",
	}
	for _, f := range files {
		st, err := os.Stat(filepath.Join(dest, f))
		if err != nil {
			t.Fatal(err)
		}
		wantMode := fs.FileMode(0o644)
		if strings.HasPrefix(f, "usr/bin/") {
			wantMode = 0o755
		}
		if st.Mode().Perm() != wantMode {
			t.Errorf("%s has mode %v, want %v", f, st.Mode().Perm(), wantMode)
		}
		if src, ok := sources[f]; ok {
			got, err1 := os.ReadFile(filepath.Join(dest, f))
			orig, err2 := os.ReadFile(src)
			if err1 != nil || err2 != nil || !bytes.Equal(got, orig) {
				t.Errorf("%s is not a copy of %s (%v, %v)", f, src, err1, err2)
			}
		}
	}
	if st, err := os.Stat(filepath.Join(dest, "etc/wireguard")); err != nil || st.Mode().Perm() != 0o700 || !st.IsDir() {
		t.Errorf("etc/wireguard: want a directory with mode 0700, got %v (%v)", st, err)
	}
	checkUnitPaths(t, filepath.Join(dest, unitDir, "wg-quick@.service"), "/usr/bin")

	runMake(t, false, nil, "uninstall", "DESTDIR="+dest, "PREFIX=/usr")
	if left := installedFiles(t, dest); len(left) != 0 {
		t.Errorf("make uninstall left %q", left)
	}
	// The configuration directory is never removed: it holds user files.
	if _, err := os.Stat(filepath.Join(dest, "etc/wireguard")); err != nil {
		t.Errorf("make uninstall removed etc/wireguard: %v", err)
	}
}

func TestInstallKnobs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{
			name: "without wg-quick",
			args: []string{"WITH_WGQUICK=no"},
			want: []string{
				"p/bin/wg",
				"p/share/bash-completion/completions/wg",
				"p/share/fish/vendor_completions.d/wg.fish",
				"p/share/man/man8/wg.8",
				"p/share/zsh/site-functions/_wg",
			},
		},
		{
			name: "binaries and man pages only",
			args: []string{"WITH_SYSTEMDUNITS=no", "WITH_BASHCOMPLETION=no", "WITH_ZSHCOMPLETION=no", "WITH_FISHCOMPLETION=no"},
			want: []string{
				"p/bin/wg",
				"p/bin/wg-quick",
				"p/share/man/man8/wg-quick.8",
				"p/share/man/man8/wg.8",
			},
		},
		{
			name: "every directory set",
			args: []string{
				"BINDIR=/opt/wgtools/sbin", "MANDIR=/m", "BASHCOMPDIR=/b", "ZSHCOMPDIR=/z",
				"FISHCOMPDIR=/f", "SYSTEMDUNITDIR=/u", "SYSCONFDIR=/e",
			},
			want: []string{
				"b/wg",
				"b/wg-quick",
				"f/wg-quick.fish",
				"f/wg.fish",
				"m/man8/wg-quick.8",
				"m/man8/wg.8",
				"opt/wgtools/sbin/wg",
				"opt/wgtools/sbin/wg-quick",
				"u/wg-quick-reresolve@.service",
				"u/wg-quick-reresolve@.timer",
				"u/wg-quick.target",
				"u/wg-quick@.service",
				"z/_wg",
				"z/_wg-quick",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := t.TempDir()
			args := append([]string{"install", "DESTDIR=" + dest, "PREFIX=/p"}, tt.args...)
			runMake(t, false, nil, args...)
			if diff := cmp.Diff(tt.want, installedFiles(t, dest)); diff != "" {
				t.Errorf("unexpected installed files (-want +got):\n%s", diff)
			}
			if slices.Contains(tt.want, "u/wg-quick@.service") {
				checkUnitPaths(t, filepath.Join(dest, "u/wg-quick@.service"), "/opt/wgtools/sbin")
			}
			runMake(t, false, nil, append([]string{"uninstall", "DESTDIR=" + dest, "PREFIX=/p"}, tt.args...)...)
			if left := installedFiles(t, dest); len(left) != 0 {
				t.Errorf("make uninstall left %q", left)
			}
		})
	}

	t.Run("relative BINDIR", func(t *testing.T) {
		out := runMake(t, true, nil, "install", "DESTDIR="+t.TempDir(), "BINDIR=bin/x")
		if !strings.Contains(out, "absolute") {
			t.Errorf("make install with a relative BINDIR failed without saying why:\n%s", out)
		}
	})
}

// unitSections parses a systemd unit file into section -> key -> values,
// failing on any line that is not a comment, a section header or a
// Key=Value assignment.
func unitSections(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]map[string][]string{}
	section := ""
	keyRE := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if sections[section] != nil {
				t.Errorf("%s:%d: section [%s] repeated", path, n, section)
			}
			sections[section] = map[string][]string{}
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || !keyRE.MatchString(key) || section == "" || strings.HasSuffix(line, "\\") {
				t.Errorf("%s:%d: not a Key=Value line in a section: %q", path, n, line)
				continue
			}
			sections[section][key] = append(sections[section][key], value)
		}
	}
	return sections
}

// TestUnitFiles checks the units' contents without systemd: the upstream
// keys and values, with our binaries' directory left for make to fill in.
func TestUnitFiles(t *testing.T) {
	const bin = "@BINDIR@"
	want := map[string]map[string][]string{
		"Unit": {
			"Description":   {"WireGuard via wg-quick(8) for %I"},
			"Before":        {"wg-quick.target"},
			"After":         {"network-online.target nss-lookup.target"},
			"Wants":         {"network-online.target nss-lookup.target"},
			"PartOf":        {"wg-quick.target"},
			"Documentation": {"man:wg-quick(8)", "man:wg(8)", "https://www.wireguard.com/", "https://www.wireguard.com/quickstart/"},
		},
		"Service": {
			"Type":            {"oneshot"},
			"RemainAfterExit": {"yes"},
			"ExecStart":       {bin + "/wg-quick up %i"},
			"ExecStop":        {bin + "/wg-quick down %i"},
			"ExecReload":      {bin + "/wg-quick reload %i"},
			"Environment":     {"WG_ENDPOINT_RESOLUTION_RETRIES=infinity"},
		},
		"Install": {
			"WantedBy": {"multi-user.target wg-quick.target"},
		},
	}
	if diff := cmp.Diff(want, unitSections(t, "systemd/wg-quick@.service.in")); diff != "" {
		t.Errorf("unexpected wg-quick@.service (-want +got):\n%s", diff)
	}
	wantTarget := map[string]map[string][]string{
		"Unit": {"Description": {"WireGuard Tunnels via wg-quick(8)"}},
	}
	if diff := cmp.Diff(wantTarget, unitSections(t, "systemd/wg-quick.target")); diff != "" {
		t.Errorf("unexpected wg-quick.target (-want +got):\n%s", diff)
	}
}

// TestUnitVerify installs the units pointing at freshly built binaries and
// has systemd-analyze check them, which also checks that the programs they
// start exist and are executable.
func TestUnitVerify(t *testing.T) {
	analyze := nettest.RequireBinary(t, "systemd-analyze")
	dir := t.TempDir()
	units := filepath.Join(dir, "units")
	runMake(t, false, nil, "install", "PREFIX="+dir, "SYSTEMDUNITDIR="+units, "SYSCONFDIR="+filepath.Join(dir, "etc"))
	checkUnitPaths(t, filepath.Join(units, "wg-quick@.service"), filepath.Join(dir, "bin"))

	// An instance path next to the template makes systemd-analyze load the
	// template from this directory, not the system's.
	cmd := exec.Command(analyze, "verify", filepath.Join(units, "wg-quick@wg0.service"), filepath.Join(units, "wg-quick.target"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, stderr.String())
	}
	// verify exits 0 after warnings such as unknown keys; ours must have none.
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if strings.Contains(line, "wg-quick") {
			t.Errorf("systemd-analyze verify: %s", line)
		} else if line != "" {
			t.Logf("systemd-analyze verify (not about our units): %s", line)
		}
	}
}

// fakeWG writes a wg stand-in for the completion tests: it knows two
// interfaces, wg0 and wg1, and two peers of wg0.
func fakeWG(t *testing.T) (bindir string) {
	t.Helper()
	bindir = t.TempDir()
	script := `#!/bin/sh
case "$*" in
"show interfaces") echo "wg0 wg1" ;;
"show wg0 peers") printf '%s\n' ` + peerA + ` ` + peerB + ` ;;
*) exit 1 ;;
esac
`
	if err := os.WriteFile(filepath.Join(bindir, "wg"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bindir
}

const (
	peerA = "NytM3qBh8uo1n/gDvOOtOfpcZvSq9OYZri7+k5BwEzQ="
	peerB = "DIxAJAhNgqEz6H1vKxg/01UnB9Bfp2buGlXuQwnEZSY="
)
