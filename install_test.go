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
	"strconv"
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

// completionFixture is the world the completion tests run in: a fake wg in
// PATH, a configuration directory standing in for /etc/wireguard, and a
// working directory with a few files.
type completionFixture struct {
	env     []string
	confDir string
	workDir string
}

func newCompletionFixture(t *testing.T) completionFixture {
	t.Helper()
	f := completionFixture{confDir: t.TempDir(), workDir: t.TempDir()}
	for _, name := range []string{"home.conf", "office.conf", "notes.txt", "far-too-long-for-an-interface.conf"} {
		if err := os.WriteFile(filepath.Join(f.confDir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"key.priv", "key.psk", "site.conf", "other"} {
		if err := os.WriteFile(filepath.Join(f.workDir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(f.workDir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	f.env = cleanEnv([]string{"PATH", "WGTOOLS_CONFIG_DIR"},
		"PATH="+fakeWG(t)+":"+os.Getenv("PATH"),
		"WGTOOLS_CONFIG_DIR="+f.confDir)
	return f
}

// run runs script with the fixture's environment and working directory and
// returns the lines it prints, sorted.
func (f completionFixture) run(t *testing.T, name string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = f.env
	cmd.Dir = f.workDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s %q: %v\n%s", name, args, err, stderr.String())
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return lines
}

var (
	wgSubcommands  = []string{"help", "show", "showconf", "set", "setconf", "addconf", "syncconf", "genkey", "genpsk", "pubkey"}
	wgShowFields   = []string{"public-key", "private-key", "listen-port", "fwmark", "peers", "preshared-keys", "endpoints", "allowed-ips", "latest-handshakes", "persistent-keepalive", "transfer", "dump", "json"}
	wgQuickVerbs   = []string{"up", "down", "save", "strip", "reload", "syncconf", "check", "reresolve", "userspace"}
	wgPeerKeywords = []string{"preshared-key", "endpoint", "allowed-ips", "persistent-keepalive", "remove", "peer"}
)

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// completionCase is one completion request: the words on the command line
// (the last one is being completed) and the candidates expected, in any
// order. line, when set, is the raw command line bash would see, for the
// cases where bash splits words at COMP_WORDBREAKS; words are then the
// pieces bash makes of it.
type completionCase struct {
	name  string
	line  string
	words []string
	want  []string
}

var wgCompletionCases = []completionCase{
	{name: "subcommands", words: []string{"wg", ""}, want: wgSubcommands},
	{name: "subcommand prefix", words: []string{"wg", "sh"}, want: []string{"show", "showconf"}},
	{name: "show interfaces", words: []string{"wg", "show", ""}, want: []string{"wg0", "wg1", "all", "interfaces"}},
	{name: "set interfaces", words: []string{"wg", "set", ""}, want: []string{"wg0", "wg1"}},
	{name: "syncconf interfaces", words: []string{"wg", "syncconf", "w"}, want: []string{"wg0", "wg1"}},
	{name: "show fields", words: []string{"wg", "show", "wg0", ""}, want: wgShowFields},
	{name: "show fields of all", words: []string{"wg", "show", "all", "l"}, want: []string{"listen-port", "latest-handshakes"}},
	{name: "nothing after show interfaces", words: []string{"wg", "show", "interfaces", ""}},
	{name: "nothing after genkey", words: []string{"wg", "genkey", ""}},
	{name: "set keywords", words: []string{"wg", "set", "wg0", ""}, want: []string{"listen-port", "fwmark", "private-key", "peer"}},
	{name: "set keyword used once", words: []string{"wg", "set", "wg0", "listen-port", "51820", ""}, want: []string{"fwmark", "private-key", "peer"}},
	{name: "set port value", words: []string{"wg", "set", "wg0", "listen-port", ""}},
	{name: "set peer keys", words: []string{"wg", "set", "wg0", "peer", ""}, want: []string{peerA, peerB}},
	{name: "set peer key prefix", words: []string{"wg", "set", "wg0", "peer", "DI"}, want: []string{peerB}},
	{name: "set peer keywords", words: []string{"wg", "set", "wg0", "peer", peerA, ""}, want: wgPeerKeywords},
	{
		name:  "set peer keyword used once",
		words: []string{"wg", "set", "wg0", "fwmark", "0x1", "peer", peerA, "persistent-keepalive", "25", ""},
		want:  []string{"preshared-key", "endpoint", "allowed-ips", "remove", "peer"},
	},
	{
		name:  "set second peer starts afresh",
		words: []string{"wg", "set", "wg0", "peer", peerA, "endpoint", "10.0.0.1:51820", "peer", peerB, ""},
		want:  wgPeerKeywords,
	},
	{name: "set after remove", words: []string{"wg", "set", "wg0", "peer", peerA, "remove", ""}, want: []string{"peer"}},
	{name: "set private key file", words: []string{"wg", "set", "wg0", "private-key", "key"}, want: []string{"key.priv", "key.psk"}},
	{name: "set preshared key file", words: []string{"wg", "set", "wg0", "peer", peerA, "preshared-key", "key.p"}, want: []string{"key.priv", "key.psk"}},
	{name: "setconf file", words: []string{"wg", "setconf", "wg0", "s"}, want: []string{"site.conf", "sub"}},
}

var wgQuickCompletionCases = []completionCase{
	{name: "verbs", words: []string{"wg-quick", ""}, want: wgQuickVerbs},
	{name: "verb prefix", words: []string{"wg-quick", "s"}, want: []string{"save", "strip", "syncconf"}},
	{name: "up configs", words: []string{"wg-quick", "up", ""}, want: []string{"home", "office", "site.conf", "sub"}},
	{name: "down configs", words: []string{"wg-quick", "down", "h"}, want: []string{"home"}},
	{name: "strip configs", words: []string{"wg-quick", "strip", "o"}, want: []string{"office"}},
	{name: "save configs", words: []string{"wg-quick", "save", "s"}, want: []string{"site.conf", "sub"}},
	{name: "userspace options", words: []string{"wg-quick", "userspace", "-"}, want: []string{"-f", "--foreground"}},
	{name: "reload options", words: []string{"wg-quick", "reload", "-"}, want: []string{"--dry-run"}},
	{name: "check options", words: []string{"wg-quick", "check", "--"}, want: []string{"--json"}},
	{name: "nothing after the config", words: []string{"wg-quick", "up", "home", ""}},
}

// shq quotes s for bash, zsh and fish alike.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// shellArray quotes words as a bash or zsh array literal.
func shellArray(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shq(w)
	}
	return "(" + strings.Join(q, " ") + ")"
}

func TestCompletionBash(t *testing.T) {
	bash := nettest.RequireBinary(t, "bash")
	f := newCompletionFixture(t)
	abs, err := filepath.Abs("completion")
	if err != nil {
		t.Fatal(err)
	}
	complete := func(t *testing.T, file, fn string, c completionCase) {
		t.Helper()
		script := "source " + shq(filepath.Join(abs, file)) + "\n" +
			"COMP_WORDS=" + shellArray(c.words) + "\n" +
			"COMP_CWORD=" + strconv.Itoa(len(c.words)-1) + "\n"
		if c.line != "" {
			script += "COMP_LINE=" + shq(c.line) + "\nCOMP_POINT=${#COMP_LINE}\n"
		}
		script += fn + "\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
		got := f.run(t, bash, "--norc", "--noprofile", "-c", script)
		if diff := cmp.Diff(sorted(c.want...), got); diff != "" {
			t.Errorf("completions of %q (-want +got):\n%s", c.words, diff)
		}
	}
	for _, c := range wgCompletionCases {
		t.Run("wg/"+c.name, func(t *testing.T) { complete(t, "wg.bash", "_wg", c) })
	}
	// bash splits the command line at = and :, which occur in keys and
	// endpoints; the script must count such pieces as one word.
	for _, c := range []completionCase{
		{
			name:  "key ending in = then a keyword",
			line:  "wg set wg0 peer " + peerA + " persistent-keepalive 25 ",
			words: []string{"wg", "set", "wg0", "peer", strings.TrimSuffix(peerA, "="), "=", "persistent-keepalive", "25", ""},
			want:  []string{"preshared-key", "endpoint", "allowed-ips", "remove", "peer"},
		},
		{
			name:  "endpoint with a port",
			line:  "wg set wg0 peer " + peerA + " endpoint 10.0.0.1:51820 ",
			words: []string{"wg", "set", "wg0", "peer", strings.TrimSuffix(peerA, "="), "=", "endpoint", "10.0.0.1", ":", "51820", ""},
			want:  []string{"preshared-key", "allowed-ips", "persistent-keepalive", "remove", "peer"},
		},
		{
			name:  "peer key being typed",
			line:  "wg set wg0 peer Ny",
			words: []string{"wg", "set", "wg0", "peer", "Ny"},
			want:  []string{peerA},
		},
	} {
		t.Run("wg/wordbreaks/"+c.name, func(t *testing.T) { complete(t, "wg.bash", "_wg", c) })
	}
	for _, c := range wgQuickCompletionCases {
		t.Run("wg-quick/"+c.name, func(t *testing.T) { complete(t, "wg-quick.bash", "_wg_quick", c) })
	}
	t.Run("registered", func(t *testing.T) {
		got := f.run(t, bash, "--norc", "--noprofile", "-c",
			"source "+shq(filepath.Join(abs, "wg.bash"))+"; source "+shq(filepath.Join(abs, "wg-quick.bash"))+"; complete -p wg wg-quick")
		want := []string{"complete -F _wg wg", "complete -F _wg_quick wg-quick"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("complete -p (-want +got):\n%s", diff)
		}
	})
}

// zshStubs replaces the completion system's builtins and functions by
// printers, so that a completion function can run outside an interactive
// shell: each prints the candidates it would add that start with $PREFIX
// (the typed part of the word), one per line; _files prints a marker.
const zshStubs = `
compadd() {
  local -a c
  if [[ $1 == -a ]]; then c=(${(P)2}); else [[ $1 == -- ]] && shift; c=("$@"); fi
  print -rl -- ${(M)c:#${PREFIX}*}
}
_describe() { local a; for a in ${(P)${@[-1]}}; do [[ $a == ${PREFIX}* ]] && print -r -- ${a%%:*}; done; return 0 }
_files() { print -r -- "<files>" }
_alternative() { local s; for s; do eval "${s#*:*:}"; done }
`

func TestCompletionZsh(t *testing.T) {
	zsh := nettest.RequireBinary(t, "zsh")
	for _, file := range []string{"completion/_wg", "completion/_wg-quick"} {
		if out, err := exec.Command(zsh, "-n", file).CombinedOutput(); err != nil {
			t.Errorf("zsh -n %s: %v\n%s", file, err, out)
		}
	}
	f := newCompletionFixture(t)
	abs, err := filepath.Abs("completion")
	if err != nil {
		t.Fatal(err)
	}
	// zsh's _files lists files, not the script.
	files := map[string][]string{
		"set private key file":   {"<files>"},
		"set preshared key file": {"<files>"},
		"setconf file":           {"<files>"},
		"up configs":             {"home", "office", "<files>"},
		"down configs":           {"home", "<files>"},
		"strip configs":          {"office", "<files>"},
		"save configs":           {"<files>"},
	}
	complete := func(t *testing.T, file string, c completionCase) {
		t.Helper()
		want := c.want
		if w, ok := files[c.name]; ok {
			want = w
		}
		script := zshStubs +
			"words=" + shellArray(c.words) + "\nCURRENT=" + strconv.Itoa(len(c.words)) + "\n" +
			"PREFIX=" + shq(c.words[len(c.words)-1]) + "\n" +
			// Status 1 means "no matches" to zsh; errors show on stderr.
			"source " + shq(filepath.Join(abs, file)) + " || true\n"
		got := f.run(t, zsh, "-f", "-c", script)
		if diff := cmp.Diff(sorted(want...), got); diff != "" {
			t.Errorf("completions of %q (-want +got):\n%s", c.words, diff)
		}
	}
	for _, c := range wgCompletionCases {
		t.Run("wg/"+c.name, func(t *testing.T) { complete(t, "_wg", c) })
	}
	for _, c := range wgQuickCompletionCases {
		t.Run("wg-quick/"+c.name, func(t *testing.T) { complete(t, "_wg-quick", c) })
	}
}

func TestCompletionFish(t *testing.T) {
	fish := nettest.RequireBinary(t, "fish")
	for _, file := range []string{"completion/wg.fish", "completion/wg-quick.fish"} {
		if out, err := exec.Command(fish, "--no-config", "-n", file).CombinedOutput(); err != nil {
			t.Errorf("fish -n %s: %v\n%s", file, err, out)
		}
	}
	f := newCompletionFixture(t)
	abs, err := filepath.Abs("completion")
	if err != nil {
		t.Fatal(err)
	}
	// fish lists files by itself, with other names than bash, and its
	// __fish_complete_suffix offers the other files after the *.conf ones.
	files := map[string][]string{
		"strip configs":          {"office", "other"},
		"set private key file":   {"key.priv", "key.psk"},
		"set preshared key file": {"key.priv", "key.psk"},
		"setconf file":           {"site.conf", "sub/"},
		"up configs":             {"home", "office", "key.priv", "key.psk", "other", "site.conf", "sub/"},
		"save configs":           {"site.conf", "sub/"},
	}
	complete := func(t *testing.T, file string, c completionCase) {
		t.Helper()
		want := c.want
		if w, ok := files[c.name]; ok {
			want = w
		}
		line := strings.Join(c.words, " ")
		script := "source " + shq(filepath.Join(abs, file)) + "\ncomplete -C " + shq(line) + "\n"
		var got []string
		for _, l := range f.run(t, fish, "--no-config", "-c", script) {
			cand, _, _ := strings.Cut(l, "\t") // drop the description
			got = append(got, cand)
		}
		if diff := cmp.Diff(sorted(want...), got); diff != "" {
			t.Errorf("completions of %q (-want +got):\n%s", line, diff)
		}
	}
	for _, c := range wgCompletionCases {
		t.Run("wg/"+c.name, func(t *testing.T) { complete(t, "wg.fish", c) })
	}
	for _, c := range wgQuickCompletionCases {
		t.Run("wg-quick/"+c.name, func(t *testing.T) { complete(t, "wg-quick.fish", c) })
	}
}

// renderMan checks that a man page renders on a terminal without a single
// groff warning, and returns its text with all white space runs made one
// space.
func renderMan(t *testing.T, page string) string {
	t.Helper()
	groff := nettest.RequireBinary(t, "groff")
	run := func(args ...string) []byte {
		cmd := exec.Command(groff, append(args, page)...)
		cmd.Env = cleanEnv([]string{"MANWIDTH", "COLUMNS"})
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("groff %s %s: %v\n%s", strings.Join(args, " "), page, err, stderr.String())
		}
		return out
	}
	run("-ww", "-man", "-Tutf8", "-z") // as man(1) renders it, warnings only
	// One very long line per paragraph: no line breaks, so no hyphenation
	// splits the words the tests look for.
	out := run("-ww", "-man", "-Tascii", "-P-cbou", "-rLL=5000n")
	return strings.Join(strings.Fields(string(out)), " ")
}

// envVarsInCode returns the environment variables the commands read, found
// as string literals passed to os.Getenv or os.LookupEnv outside tests.
func envVarsInCode(t *testing.T) []string {
	t.Helper()
	re := regexp.MustCompile(`os\.(?:Getenv|LookupEnv)\("([A-Z0-9_]+)"\)`)
	var names []string
	for _, root := range []string{"cmd", "internal"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "nettest" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range re.FindAllStringSubmatch(string(data), -1) {
				if !slices.Contains(names, m[1]) {
					names = append(names, m[1])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(names)
	return names
}

func TestManPages(t *testing.T) {
	wg := renderMan(t, "man/wg.8")
	quick := renderMan(t, "man/wg-quick.8")

	mustMention := func(t *testing.T, page, text string, words []string) {
		t.Helper()
		for _, w := range words {
			if !strings.Contains(text, w) {
				t.Errorf("%s does not mention %q", page, w)
			}
		}
	}
	t.Run("wg.8", func(t *testing.T) {
		mustMention(t, "wg(8)", wg, wgSubcommands)
		mustMention(t, "wg(8)", wg, wgShowFields)
		mustMention(t, "wg(8)", wg, []string{
			"version", "listen-port", "fwmark", "private-key", "peer", "remove", "preshared-key",
			"endpoint", "allowed-ips", "persistent-keepalive",
			"PrivateKey", "ListenPort", "FwMark", "PublicKey", "PresharedKey", "AllowedIPs", "Endpoint", "PersistentKeepalive",
			"WG_COLOR_MODE", "WG_HIDE_KEYS", "WG_ENDPOINT_RESOLUTION_RETRIES",
			"/var/run/wireguard",
			"wg0.conf:7: Line unrecognized", // errors name file and line
			"not supported",                 // -ADDR allowed IPs
		})
	})
	t.Run("wg-quick.8", func(t *testing.T) {
		mustMention(t, "wg-quick(8)", quick, wgQuickVerbs)
		mustMention(t, "wg-quick(8)", quick, []string{
			"--foreground",
			"Address", "DNS", "MTU", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig",
			"WG_ENDPOINT_RESOLUTION_RETRIES", "WG_QUICK_USERSPACE_IMPLEMENTATION", "LOG_LEVEL", "WG_QUICK_TIMING",
			"/etc/wireguard", "/run/wgtools", "journal", "wg-quick@.service", "wg-quick.target",
			"[!] Missing WireGuard kernel module.",
			"wg syncconf wg0 <(wg-quick strip wg0)",
			"not supported", // -ADDR allowed IPs
		})
	})
	// Every environment variable the code reads is documented.
	t.Run("environment", func(t *testing.T) {
		for _, name := range envVarsInCode(t) {
			if !strings.Contains(wg, name) && !strings.Contains(quick, name) {
				t.Errorf("the code reads $%s, but neither man page documents it", name)
			}
		}
	})
}

// TestDemo runs `make demo` as root: a tunnel between two network
// namespaces, a ping through it, and a complete teardown, also when the
// demo fails half-way.
func TestDemo(t *testing.T) {
	nettest.RequireRoot(t)
	nettest.RequireBinary(t, "ip")
	nettest.RequireBinary(t, "ping")

	t.Run("tunnel", func(t *testing.T) {
		out := runMake(t, false, nil, "demo")
		for _, re := range []string{
			`(?m)^\d+ bytes from 10\.78\.0\.2: icmp_seq=\d+`,
			`(?m)^interface: wgd\d+-a$`,
			`(?m)^interface: wgd\d+-b$`,
			`(?m)^  latest handshake: `,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("make demo output does not match %s:\n%s", re, out)
			}
		}
		if strings.Contains(out, "DNS") {
			t.Errorf("the demo must not configure DNS:\n%s", out)
		}
		checkDemoGone(t, out)
	})
	t.Run("teardown on failure", func(t *testing.T) {
		out := runMake(t, true, []string{"WGTOOLS_DEMO_FAIL=after-up"}, "demo")
		if !strings.Contains(out, "Failing on purpose") {
			t.Fatalf("the demo failed before the point it was told to fail at:\n%s", out)
		}
		if !strings.Contains(out, "Tearing down") || !strings.Contains(out, "wg-quick down") {
			t.Errorf("the failed demo did not tear down:\n%s", out)
		}
		checkDemoGone(t, out)
	})
}

// checkDemoGone checks that nothing the demo printed it created is left:
// its temporary directory, network namespaces, userspace devices (their
// sockets and processes) and wg-quick state.
func checkDemoGone(t *testing.T, out string) {
	t.Helper()
	m := regexp.MustCompile(`Writing configurations with fresh keys to (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo did not print its temporary directory:\n%s", out)
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s left behind (%v)", m[1], err)
	}
	list, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range regexp.MustCompile(`wgdemo-\d+-[ab]`).FindAllString(out, -1) {
		if regexp.MustCompile(`(?m)^` + ns + `\b`).Match(list) {
			t.Errorf("network namespace %s left behind", ns)
		}
	}
	ifaces := slices.Compact(sorted(regexp.MustCompile(`wgd\d+-[ab]\b`).FindAllString(out, -1)...))
	if len(ifaces) != 2 {
		t.Fatalf("want the two interface names in the demo output, found %q", ifaces)
	}
	for _, name := range ifaces {
		if _, err := os.Stat("/var/run/wireguard/" + name + ".sock"); !os.IsNotExist(err) {
			t.Errorf("socket of %s left behind (%v)", name, err)
		}
		// Journals and locks, in whichever namespace's directory.
		for _, pat := range []string{"/run/wgtools/" + name + ".*", "/run/wgtools/netns-*/" + name + ".*"} {
			if left, _ := filepath.Glob(pat); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		}
	}
	// A userspace device exits once its link is gone; give it a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		procs := processesMentioning(ifaces)
		if len(procs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("processes left behind: %q", procs)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// processesMentioning returns the command lines of processes whose
// arguments contain one of names as a whole argument.
func processesMentioning(names []string) []string {
	var found []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range dirs {
		data, err := os.ReadFile(p)
		if err != nil || len(data) == 0 {
			continue
		}
		args := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
		for _, n := range names {
			if slices.Contains(args, n) {
				found = append(found, strings.Join(args, " "))
			}
		}
	}
	return found
}
