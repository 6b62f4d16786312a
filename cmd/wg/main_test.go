package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/keys"
	"github.com/wgtools/wgtools/internal/nettest"
)

type result struct {
	Stdout, Stderr string
	Code           int
}

// ourWG runs our wg in-process, invoked as "wg".
func ourWG(stdin string, args ...string) result {
	var o, e bytes.Buffer
	code := run(context.Background(), append([]string{"wg"}, args...), strings.NewReader(stdin), &o, &e)
	return result{o.String(), e.String(), code}
}

// refWG runs the installed reference (nettest.Reference), invoked as "wg".
func refWG(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	o, e, code := nettest.RunReference(t, "wg", stdin, args...)
	return result{o, e, code}
}

// debianVersion is the one line our wg prints differently from the
// installed Debian build: we report the upstream release we follow.
const debianVersion = "wireguard-tools v1.0.20210914 - https://git.zx2c4.com/wireguard-tools/\n"

// TestDispatchAgainstReference compares usage texts, error texts, streams
// and exit codes with the installed reference for argument vectors that
// need no device.
func TestDispatchAgainstReference(t *testing.T) {
	for _, args := range [][]string{
		{"help"}, {"-h"}, {"--help"},
		{"foo"}, {"help", "foo"}, {"--version", "x"}, {"-v", "-v"}, {"SHOW"}, {""},
		{"genkey", "x"}, {"genkey", "--help"}, {"genpsk", "-h"}, {"pubkey", "x"}, {"pubkey", "--help"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			want := refWG(t, "", args...)
			if diff := cmp.Diff(want, ourWG("", args...)); diff != "" {
				t.Errorf("wg %q differs (-reference +ours):\n%s", args, diff)
			}
		})
	}
	for _, v := range []string{"-v", "--version", "version"} {
		want := refWG(t, "", v)
		if want.Stdout != debianVersion {
			t.Fatalf("reference version line %q: update debianVersion", want.Stdout)
		}
		want.Stdout = "wireguard-tools v1.0.20260223 - https://git.zx2c4.com/wireguard-tools/\n"
		if diff := cmp.Diff(want, ourWG("", v)); diff != "" {
			t.Errorf("wg %s differs (-upstream +ours):\n%s", v, diff)
		}
	}
}

// TestPubkeyAgainstReference compares `wg pubkey` on well-formed and broken
// input, including the reference's quirks (NULs after the key are ignored, a
// leading space reads as trailing characters).
func TestPubkeyAgainstReference(t *testing.T) {
	priv, err := keys.GeneratePrivate()
	if err != nil {
		t.Fatal(err)
	}
	k := keys.Encode(priv)
	for name, in := range map[string]string{
		"plain":            k,
		"newline":          k + "\n",
		"white space":      k + "\n\n  \t\r\n",
		"nuls":             k + "\x00\x00",
		"leading space":    " " + k,
		"short":            k[:43],
		"empty":            "",
		"garbage after":    k + "x",
		"noncanonical":     k[:42] + "B=",
		"two keys":         k + "\n" + k + "\n",
		"unclamped genpsk": "Q2aEG+IIRk/ukeewLDuShFMoJAnVuPz7sZXQOrFwnQQ=",
	} {
		t.Run(name, func(t *testing.T) {
			want := refWG(t, in, "pubkey")
			if diff := cmp.Diff(want, ourWG(in, "pubkey")); diff != "" {
				t.Errorf("differs (-reference +ours):\n%s", diff)
			}
		})
	}
}

// TestGenkey checks the output shape of genkey and genpsk, clamping, and
// the world-accessible warning against the reference for the same file
// modes.
func TestGenkey(t *testing.T) {
	for _, sub := range []string{"genkey", "genpsk"} {
		for _, mode := range []os.FileMode{0o600, 0o640, 0o604, 0o666} {
			dir := t.TempDir()
			outputs := map[string]result{}
			for _, who := range []string{"ref", "ours"} {
				path := filepath.Join(dir, who)
				f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, mode)
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Chmod(mode); err != nil { // despite the umask
					t.Fatal(err)
				}
				var r result
				if who == "ref" {
					cmd := &exec.Cmd{Path: nettest.Reference(t, "wg"), Args: []string{"wg", sub}, Stdout: f}
					var e bytes.Buffer
					cmd.Stderr = &e
					if err := cmd.Run(); err != nil {
						t.Fatal(err)
					}
					r.Stderr = e.String()
				} else {
					var e bytes.Buffer
					r.Code = run(context.Background(), []string{"wg", sub}, strings.NewReader(""), f, &e)
					r.Stderr = e.String()
				}
				f.Close()
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				key, err := keys.Parse(strings.TrimSuffix(string(data), "\n"))
				if err != nil || len(data) != 45 {
					t.Fatalf("%s %s wrote %q: %v", who, sub, data, err)
				}
				if sub == "genkey" && (key[0]&7 != 0 || key[31]&0xc0 != 0x40) {
					t.Errorf("%s genkey key is not clamped: %x", who, key)
				}
				outputs[who] = r
			}
			if diff := cmp.Diff(outputs["ref"], outputs["ours"]); diff != "" {
				t.Errorf("%s to a %o file differs (-reference +ours):\n%s", sub, mode, diff)
			}
		}
	}
}

func TestMentionsPeer(t *testing.T) {
	for in, want := range map[string]bool{
		"": false, "pee": false, "[Interface]\nListenPort = 1\n": false, "pe\ner": false,
		"[Peer]": true, "[PEER]": true, "x [ pEeR ]": true, "peer": true, "...pEER": true, "[Pe€r]": false,
	} {
		if got := mentionsPeer(in); got != want {
			t.Errorf("mentionsPeer(%q) = %v, want %v", in, got, want)
		}
	}
}
