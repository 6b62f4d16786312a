package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wgtools/wgtools/internal/nettest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestCheckCorpus runs `wg-quick check` on every file of testdata/check
// and compares its report and exit status with the golden .out file (the
// file's directory is replaced by DIR). The files are copied with mode
// 0600 so that the world-readable warning does not depend on the checkout.
func TestCheckCorpus(t *testing.T) {
	files, err := filepath.Glob("../../testdata/check/*.conf")
	if err != nil || len(files) < 10 {
		t.Fatalf("check corpus: %d files, %v", len(files), err)
	}
	dir := t.TempDir()
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "wgchk.conf")
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			r := ourQuick("check", p)
			got := strings.ReplaceAll(r.Stdout, p, "DIR/"+name) + "exit " + strconv.Itoa(r.Code) + "\n" + r.Stderr
			golden := strings.TrimSuffix(f, ".conf") + ".out"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("check report (-golden +got):\n%s", diff)
			}
			// The JSON report says the same, and the same exit status.
			j := ourQuick("check", "--json", p)
			var doc struct {
				Errors, Warnings int
				Findings         []struct{ Severity, Message string }
			}
			if err := json.Unmarshal([]byte(j.Stdout), &doc); err != nil {
				t.Fatalf("json: %v\n%s", err, j.Stdout)
			}
			if j.Code != r.Code || len(doc.Findings) != strings.Count(r.Stdout, "\n") || doc.Errors+doc.Warnings != len(doc.Findings) {
				t.Errorf("JSON report %+v (exit %d) disagrees with the text report (exit %d)", doc, j.Code, r.Code)
			}
		})
	}
}

// TestCheckWorldReadable: a mode 0644 file in a 0755 directory is warned
// about, as wg-quick warns, and makes the exit status 2 at least.
func TestCheckWorldReadable(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../../testdata/check/clean.conf")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "wgchk.conf")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// Explicitly, whatever the umask made of them.
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{{dir, 0o755}, {p, 0o644}} {
		if err := os.Chmod(f.path, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	// The same file, private, is clean: the warning is about the mode.
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := ourQuick("check", p); r.Code != 0 || strings.Contains(r.Stdout, "world accessible") {
		t.Fatalf("mode 0600: got %+v, want a clean check", r)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	r := ourQuick("check", p)
	if r.Code != 2 || !strings.Contains(r.Stdout, "world accessible") {
		t.Fatalf("got %+v", r)
	}
}

// TestNoSecretsInMessages: key material in a bad configuration (a nearly
// valid private key, a private key in the wrong section, a misspelt key
// name) never appears in what check, check --json or up print, in whole
// or as its first 20 characters; nor do terminal escape sequences.
func TestNoSecretsInMessages(t *testing.T) {
	const key = "eGvwC0w/iSf++8d3zGyAxieGhkOVC6HS9CM+5ht1kns="
	dir := t.TempDir()
	for _, tc := range []struct{ name, conf string }{
		{"nearly valid", "[Interface]\nPrivateKey = " + key + "x\n"},
		{"one short", "[Interface]\nPrivateKey = " + key[:43] + "\n"},
		{"in a peer", "[Interface]\n[Peer]\nPublicKey = rH88fXnB0eX4gld6mGOlPI0uEQWNrr4nkzuqOl9fklY=\nPrivateKey = " + key + "\n"},
		{"misspelt", "[Interface]\nPrivatKey = " + key + "\n"},
		{"preshared", "[Interface]\n[Peer]\nPublicKey = rH88fXnB0eX4gld6mGOlPI0uEQWNrr4nkzuqOl9fklY=\nPresharedKey = " + key + "=\n"},
		{"escape sequence", "[Interface]\nFoo = \x1b]0;pwned\x07\x1b[2J\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "wgsec.conf")
			if err := os.WriteFile(p, []byte(tc.conf), 0o600); err != nil {
				t.Fatal(err)
			}
			// (strip prints the file for wg setconf, keys and all, by design.)
			for _, args := range [][]string{{"check", p}, {"check", "--json", p}, {"up", p}} {
				r := ourQuick(args...)
				out := r.Stdout + r.Stderr
				if r.Code == 0 {
					t.Errorf("wg-quick %v accepted the file", args)
				}
				if strings.Contains(out, key[:20]) || strings.Contains(out, key[24:]) {
					t.Errorf("wg-quick %v prints key material:\n%s", args, out)
				}
				if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07) {
					t.Errorf("wg-quick %v prints control characters: %q", args, out)
				}
			}
		})
	}
}

// TestCheckWriters: check warns when someone other than root can change
// the file (its hooks run as root): a group- or world-writable file, one
// owned by another user, a directory others can write without the sticky
// bit, or one owned by another user. The clean cases stay clean.
func TestCheckWriters(t *testing.T) {
	nettest.RequireRoot(t) // to chown
	data, err := os.ReadFile("../../testdata/check/clean.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name              string
		fileMode, dirMode os.FileMode
		fileUID, dirUID   int
		want              string // "" for a clean check
	}{
		{"private", 0o600, 0o700, 0, 0, ""},
		{"sticky shared directory", 0o600, 0o777 | os.ModeSticky, 0, 0, ""},
		{"group-writable file", 0o620, 0o700, 0, 0, "the file is writable by its group;"},
		{"world-writable file", 0o602, 0o700, 0, 0, "the file is writable by other users;"},
		{"file of another user", 0o600, 0o700, 1234, 0, "the file is owned by uid 1234, not root"},
		{"writable directory", 0o600, 0o777, 0, 0, "is writable by its group and other users, who can replace the file"},
		{"directory of another user", 0o600, 0o700, 0, 1234, "is owned by uid 1234, not root, who can replace the file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "wgchk.conf")
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, err := range []error{os.Chmod(p, tc.fileMode), os.Chmod(dir, tc.dirMode), os.Chown(p, tc.fileUID, 0), os.Chown(dir, tc.dirUID, 0)} {
				if err != nil {
					t.Fatal(err)
				}
			}
			r := ourQuick("check", p)
			if tc.want == "" {
				if r.Code != 0 || r.Stdout != "" {
					t.Fatalf("got %+v, want a clean check", r)
				}
				return
			}
			if r.Code != 2 || !strings.Contains(r.Stdout, tc.want) || !strings.Contains(r.Stdout, "run commands as root") {
				t.Fatalf("got %+v, want a warning saying %q", r, tc.want)
			}
		})
	}
}
