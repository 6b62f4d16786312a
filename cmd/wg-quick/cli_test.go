package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/nettest"
)

var fileLine = regexp.MustCompile(`^wg-quick: /\S+\.conf:\d+: `)

type cliResult struct {
	Stdout, Stderr string
	Code           int
}

func ourQuick(args ...string) cliResult {
	var o, e bytes.Buffer
	code := run(context.Background(), append([]string{"wg-quick"}, args...), strings.NewReader(""), &o, &e)
	return cliResult{o.String(), e.String(), code}
}

func refQuick(t *testing.T, args ...string) cliResult {
	t.Helper()
	nettest.RequireRoot(t) // the reference re-runs itself with sudo otherwise
	o, e, code := nettest.RunReference(t, "wg-quick", "", args...)
	return cliResult{o, e, code}
}

// TestCLIAgainstReference compares usage, path resolution, permission
// warnings, strip output and parse-time errors with the installed
// reference wg-quick, for everything that changes nothing on the system.
func TestCLIAgainstReference(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	good := "# comment\n[Interface]\nPrivateKey = eGvwC0w/iSf++8d3zGyAxieGhkOVC6HS9CM+5ht1kns=\nAddress = 10.0.0.1/24\nPostUp = echo %i # kept\n\n[Peer]\nPublicKey = rH88fXnB0eX4gld6mGOlPI0uEQWNrr4nkzuqOl9fklY=\nAllowedIPs = 10.0.0.2/32\n"
	private := write("wgcli0.conf", good, 0o600)
	public := write("wgcli1.conf", good, 0o644)
	badSave := write("wgcli2.conf", "[Interface]\nSaveConfig = yes\n", 0o600)
	badName := write("not a name.conf", good, 0o600)
	longName := write("wgabcdefghijklmnop.conf", good, 0o600)
	link := filepath.Join(dir, "wgcli3.conf")
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{}, {"--help"}, {"-h"}, {"help"}, {"help", "x"}, {"up"}, {"up", "a", "b"}, {"bogus", "wg0"}, {"UP", "wg0"},
		{"strip", private}, {"strip", public}, {"strip", link}, {"strip", badSave}, {"strip", badName}, {"strip", longName},
		{"strip", filepath.Join(dir, "missing.conf")}, {"strip", "wgnosuchcli9"}, {"strip", "wgcli0.conf"},
		{"up", badSave}, {"down", filepath.Join(dir, "missing.conf")},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			want, got := refQuick(t, args...), ourQuick(args...)
			// Named difference: our parse errors name the file and line
			// between the program name and the reference's message.
			got.Stderr = fileLine.ReplaceAllString(got.Stderr, "wg-quick: ")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("wg-quick %q differs (-reference +ours):\n%s", args, diff)
			}
		})
	}
}

// TestParseErrorsBeforeChanges: a bad file is reported with its line
// before anything happens (no interface is created).
func TestParseErrorsBeforeChanges(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "wgbad0.conf")
	os.WriteFile(p, []byte("[Interface]\nPrivateKey = eGvwC0w/iSf++8d3zGyAxieGhkOVC6HS9CM+5ht1kns=\nAddress = 10.0.0.300/24\n"), 0o600)
	got := ourQuick("up", p)
	want := "wg-quick: " + p + ":3: Address is not an IP address with an optional /prefix length: `10.0.0.300/24'\n"
	if got.Code != 1 || got.Stderr != want || got.Stdout != "" {
		t.Fatalf("got %+v, want exit 1 with %q", got, want)
	}
}

// TestOversizedConfig: a configuration above config.MaxFileSize, here one
// symlinked to an endless device, is refused with one clear error before
// anything happens, by every verb that reads it (the read stops one byte
// past the cap instead of growing until the OOM killer comes).
func TestOversizedConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "wgbig0.conf")
	if err := os.Symlink("/dev/urandom", p); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"strip", "up", "check"} {
		got := ourQuick(verb, p)
		// (The world-accessible warning comes first, as the reference's.)
		if got.Code == 0 || !strings.Contains(got.Stderr, "larger than 32 MiB") || strings.Count(got.Stderr, "wg-quick:") != 1 {
			t.Errorf("wg-quick %s on /dev/urandom: %+v, want one error saying it is larger than 32 MiB", verb, got)
		}
	}
}
