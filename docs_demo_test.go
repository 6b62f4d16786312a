package wgtools_test

// Tests of what `make install` puts on a system besides the Go code: the
// Makefile's install and uninstall targets, the systemd units, the bash, zsh
// and fish completions, the man pages, and `make demo`.

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wgtools/wgtools/internal/nettest"
)

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
