package wgtools_test

// Tests of what `make install` puts on a system besides the Go code: the
// Makefile's install and uninstall targets, the systemd units, the bash, zsh
// and fish completions, the man pages, and `make demo`.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/nettest"
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
