package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/nettest"
)

// TestSaveGrammar: save takes CONFIG after any of --dry-run, --force and
// --canonical, each once; anything else prints the usage and fails.
func TestSaveGrammar(t *testing.T) {
	usage := ourQuick().Stderr
	missing := filepath.Join(t.TempDir(), "wgnosuch0.conf")
	notFound := "wg-quick: `" + missing + "' does not exist\n"
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"save"}, usage},
		{[]string{"save", "--force"}, usage},
		{[]string{"save", "a", "b"}, usage},
		{[]string{"save", "--force", "--force", missing}, usage},
		{[]string{"save", "--bogus", missing}, usage},
		{[]string{"save", missing, "--force"}, usage},
		{[]string{"save", missing}, notFound},
		{[]string{"save", "--dry-run", missing}, notFound},
		{[]string{"save", "--canonical", "--force", "--dry-run", missing}, notFound},
	} {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			if diff := cmp.Diff(cliResult{Stderr: tt.want, Code: 1}, ourQuick(tt.args...)); diff != "" {
				t.Errorf("wg-quick %q (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestSaveInPlace runs save on a real interface changed at run time (a
// peer added with wg set, a roamed endpoint, an address added with ip):
// --dry-run shows the diff and writes nothing; save changes exactly those
// lines; a save with nothing to change leaves the file's bytes and mtime;
// a file edited since is refused, with the edit shown, until --force; and
// SaveConfig on down keeps an edited file and says so.
func TestSaveInPlace(t *testing.T) {
	eqRequireTools(t)
	k := faultKeys(t, 3)
	ns := nettest.NewNetNS(t)
	s := eqNewSide(t, "ours", nettest.OurBinary(t, "wg-quick"), nil, ns, nettest.UniqueIfName(t, "wgs"))
	conf := `# office gateway
[Interface]
PrivateKey = ` + k[0].String() + `  # keep me secret
Address = 10.74.0.1/24   # the office range
ListenPort = 51874

# laptop
[Peer]
PublicKey = ` + k[1].PublicKey().String() + `
AllowedIPs = 10.74.0.2/32, 10.75.0.0/24 # lab
Endpoint = 192.0.2.2:51820
`
	s.writeConfig(t, conf)
	s.mustRun(t, "up")
	ns.Run(t, "wg", "set", s.ifname, "peer", k[2].PublicKey().String(), "allowed-ips", "10.74.0.3/32")
	ns.Run(t, "wg", "set", s.ifname, "peer", k[1].PublicKey().String(), "endpoint", "192.0.2.77:4444")
	ns.Run(t, "ip", "address", "add", "10.76.0.1/24", "dev", s.ifname)

	want := strings.NewReplacer(
		"Address = 10.74.0.1/24   #", "Address = 10.74.0.1/24, 10.76.0.1/24   #",
		"Endpoint = 192.0.2.2:51820\n", "Endpoint = 192.0.2.77:4444\n\n[Peer]\nPublicKey = "+k[2].PublicKey().String()+"\nAllowedIPs = 10.74.0.3/32\n",
	).Replace(conf)

	out, stderr, err := s.runOut(t, "save", "--dry-run")
	if err != nil {
		t.Fatalf("save --dry-run: %v\n%s", err, stderr)
	}
	for _, line := range []string{"-Endpoint = 192.0.2.2:51820", "+Endpoint = 192.0.2.77:4444", "+[Peer]", "PrivateKey = (hidden)"} {
		if !strings.Contains(out, line+"\n") && !strings.Contains(out, line+"  #") {
			t.Errorf("dry run lacks %q:\n%s", line, out)
		}
	}
	if strings.Contains(out, k[0].String()) {
		t.Errorf("dry run shows the private key:\n%s", out)
	}
	if got := readFile(t, s.conf); got != conf {
		t.Fatalf("dry run wrote the file:\n%s", got)
	}

	s.mustRun(t, "save")
	if diff := cmp.Diff(want, readFile(t, s.conf)); diff != "" {
		t.Fatalf("saved file (-want +got):\n%s", diff)
	}
	old := time.Unix(1_000_000_000, 0)
	if err := os.Chtimes(s.conf, old, old); err != nil {
		t.Fatal(err)
	}
	s.mustRun(t, "save")
	if st, err := os.Stat(s.conf); err != nil || !st.ModTime().Equal(old) || readFile(t, s.conf) != want {
		t.Fatalf("a save with nothing to change touched the file: %v %v", st.ModTime(), err)
	}

	edited := strings.Replace(want, "# laptop\n", "# laptop (Ana)\n", 1)
	s.writeConfig(t, edited)
	_, stderr, err = s.runOut(t, "save")
	if err == nil {
		t.Fatal("save over an edited file succeeded")
	}
	for _, line := range []string{"changed since it was last applied or saved", "-# laptop\n", "+# laptop (Ana)\n", "wg-quick save --force " + s.ifname} {
		if !strings.Contains(stderr, line) {
			t.Errorf("refusal lacks %q:\n%s", line, stderr)
		}
	}
	if got := readFile(t, s.conf); got != edited {
		t.Fatalf("refused save changed the file:\n%s", got)
	}
	if _, stderr, err := s.runOut(t, "save", "--force"); err != nil {
		t.Fatalf("save --force: %v\n%s", err, stderr)
	}
	if got := readFile(t, s.conf); got != edited {
		t.Fatalf("save --force of an interface the file describes changed it:\n%s", got)
	}

	// SaveConfig on down: the edit made while up wins, and down says so.
	withSave := strings.Replace(edited, "ListenPort = 51874\n", "ListenPort = 51874\nSaveConfig = true\n", 1)
	s.writeConfig(t, withSave)
	ns.Run(t, "wg", "set", s.ifname, "peer", k[2].PublicKey().String(), "remove")
	stderr = s.mustRun(t, "down")
	if !strings.Contains(stderr, "keeping the edited file") {
		t.Errorf("down did not say it kept the file:\n%s", stderr)
	}
	if got := readFile(t, s.conf); got != withSave {
		t.Errorf("down wrote over the edited file:\n%s", got)
	}
	s.requireGone(t)
}

// TestSaveCorpusRoundTrip: for every file of testdata/conf that up
// accepts here, save right after up changes no byte and leaves the mtime.
// Files whose hooks change the device (wg set) are left out: their
// interface is not their file.
func TestSaveCorpusRoundTrip(t *testing.T) {
	eqRequireTools(t)
	files, err := filepath.Glob("../../testdata/conf/*/*.conf")
	if err != nil || len(files) < 60 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	ns := nettest.NewNetNS(t)
	s := eqNewSide(t, "ours", nettest.OurBinary(t, "wg-quick"), nil, ns, nettest.UniqueIfName(t, "wgr"))
	old := time.Unix(1_000_000_000, 0)
	var saved, refused []string
	for _, file := range files {
		name := filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file)
		data := readFile(t, file)
		if strings.HasPrefix(name, "invalid/") || strings.Contains(data, "wg set") {
			continue
		}
		if err := os.WriteFile(s.conf, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if stderr, err := s.run(t, "up"); err != nil {
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			refused = append(refused, name+" ("+lines[len(lines)-1]+")")
			continue
		}
		if err := os.Chtimes(s.conf, old, old); err != nil {
			t.Fatal(err)
		}
		_, stderr, err := s.runOut(t, "save")
		if err != nil {
			t.Errorf("%s: save: %v\n%s", name, err, stderr)
		}
		if got := readFile(t, s.conf); got != data {
			t.Errorf("%s: save changed the file (-file +saved):\n%s", name, cmp.Diff(data, got))
		}
		if st, err := os.Stat(s.conf); err != nil || !st.ModTime().Equal(old) {
			t.Errorf("%s: save touched the file", name)
		}
		s.mustRun(t, "down")
		saved = append(saved, name)
	}
	t.Logf("%d files saved unchanged after up; %d not accepted by up here: %v", len(saved), len(refused), refused)
	if len(saved) < 40 {
		t.Errorf("only %d files came up", len(saved))
	}
}
