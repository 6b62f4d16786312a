package config_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/keys"
	"github.com/wgtools/wgtools/internal/nettest"
)

// refDevice is a wireguard-go device in its own namespace that the
// reference wg configures, so that the reference's verdict on a file (and
// the device state it leads to) can be compared with ours.
type refDevice struct {
	name string
	dir  string
}

func newRefDevice(t *testing.T) *refDevice {
	t.Helper()
	nettest.RequireRoot(t)
	nettest.Reference(t, "wg")
	nettest.Reference(t, "wg-quick")
	ns := nettest.NewNetNS(t)
	name := nettest.UniqueIfName(t, "wgc")
	nettest.StartWireGuardGo(t, ns, name)
	return &refDevice{name: name, dir: t.TempDir()}
}

// run runs a reference command. Endpoint resolution is not retried: a
// transient failure would only make the test slow.
func (d *refDevice) run(t *testing.T, name string, args ...string) (stdout, stderr string, ok bool) {
	t.Helper()
	cmd := exec.Command(nettest.Reference(t, name), args...)
	cmd.Args[0] = name
	cmd.Env = append(os.Environ(), "WG_ENDPOINT_RESOLUTION_RETRIES=0")
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("%s: %v", name, err)
	}
	return o.String(), e.String(), err == nil
}

// verdict is what the reference makes of a wg-quick file: `wg-quick strip`
// and then `wg setconf` of the result on a real device, as `wg-quick up`
// does. On success it returns the strip text and the device's showconf
// text; on failure the message wg or wg-quick printed.
func (d *refDevice) verdict(t *testing.T, data []byte) (strip, showconf, msg string, ok bool) {
	t.Helper()
	// wg-quick takes the interface name from the file name.
	path := filepath.Join(d.dir, "wgcorpus.conf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	strip, stderr, ok := d.run(t, "wg-quick", "strip", path)
	if !ok {
		return "", "", lastLine(stderr), false
	}
	stripped := filepath.Join(d.dir, "stripped")
	if err := os.WriteFile(stripped, []byte(strip), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, ok := d.run(t, "wg", "setconf", d.name, stripped); !ok {
		// wg follows the specific message with a general one.
		stderr = strings.TrimSuffix(stderr, "Configuration parsing error\n")
		stderr = strings.TrimSuffix(stderr, "Invalid configuration\n")
		return strip, "", lastLine(stderr), false
	}
	return strip, d.showconf(t), "", true
}

// setconf applies our showconf text with the reference wg and reads the
// device back.
func (d *refDevice) setconf(t *testing.T, text []byte) string {
	t.Helper()
	path := filepath.Join(d.dir, "ours")
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, ok := d.run(t, "wg", "setconf", d.name, path); !ok {
		t.Fatalf("reference wg rejects our showconf output: %s\n%s", stderr, text)
	}
	return d.showconf(t)
}

// showconf reads the device with the reference wg, in a canonical order:
// wireguard-go lists peers in random order, so peers are sorted.
func (d *refDevice) showconf(t *testing.T) string {
	t.Helper()
	out, stderr, ok := d.run(t, "wg", "showconf", d.name)
	if !ok {
		t.Fatalf("wg showconf: %s", stderr)
	}
	head, peers, _ := strings.Cut(out, "[Peer]\n")
	if peers == "" {
		return out
	}
	blocks := strings.Split(strings.TrimRight("[Peer]\n"+peers, "\n"), "\n\n")
	slices.Sort(blocks)
	return head + strings.Join(blocks, "\n\n") + "\n"
}

// randomPort blanks the listening port of a showconf text when the file set
// none: setconf then asks the device for a random one, different each time.
func randomPort(c *config.Config, showconf string) string {
	if c.Interface.ListenPort != nil && *c.Interface.ListenPort != 0 {
		return showconf
	}
	head, rest, _ := strings.Cut(showconf, "ListenPort = ")
	_, rest, _ = strings.Cut(rest, "\n")
	return head + "ListenPort = (random)\n" + rest
}

// redactQuoted applies config.Redact to the `quoted' input in a message of
// the reference, which repeats input as it is: what ours must carry.
func redactQuoted(msg string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(msg, '`')
		j := strings.LastIndexByte(msg, '\'')
		if i < 0 || j < i {
			return b.String() + msg
		}
		b.WriteString(msg[:i+1] + config.Redact(msg[i+1:j]) + "'")
		msg = msg[j+1:]
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// ours is our verdict on the same file: ParseQuick, then endpoint
// resolution with r (which wg does while parsing).
func ours(data []byte, r config.Resolver) (*config.Config, error) {
	c, err := config.ParseQuick(data, config.Options{File: "wgcorpus.conf"})
	if err != nil {
		return nil, err
	}
	err = config.ResolveEndpoints(context.Background(), c, r, config.Retry{Retries: 0})
	return c, err
}

// eachCorpusFile runs check on every file of testdata/conf, each in a
// subtest named FOLDER/FILE, and returns how many files of each folder
// passed.
func eachCorpusFile(t *testing.T, check func(t *testing.T, dir string, data []byte)) map[string]int {
	t.Helper()
	files, err := filepath.Glob("../../testdata/conf/*/*.conf")
	if err != nil || len(files) < 60 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	counts := map[string]int{}
	for _, file := range files {
		dir := filepath.Base(filepath.Dir(file))
		t.Run(dir+"/"+filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			check(t, dir, data)
			if !t.Failed() {
				counts[dir]++
			}
		})
	}
	return counts
}

// upstreamOnly names the corpus files on which the installed Debian
// reference (1.0.20210914) and upstream v1.0.20260223, which we follow,
// disagree: the +/- incremental allowed-ips syntax, added in v1.0.20250521.
const upstreamOnly = "upstream-only"

// TestCorpusAgainstReference feeds every file of testdata/conf to the
// installed reference and to us: the verdicts must match, for rejected
// files our message must carry the reference's, and for accepted files the
// strip text must be byte-identical and the device state reached through
// our parse (our showconf text applied by the reference wg) must equal the
// state the reference's own parse reached.
func TestCorpusAgainstReference(t *testing.T) {
	d := newRefDevice(t)
	counts := eachCorpusFile(t, func(t *testing.T, dir string, data []byte) {
		refStrip, refState, refMsg, refOK := d.verdict(t, data)
		c, ourErr := ours(data, net.DefaultResolver)
		if dir == upstreamOnly {
			if refOK || ourErr != nil {
				t.Fatalf("want Debian to reject (%q) and us to accept (%v)", refMsg, ourErr)
			}
			return
		}
		if refOK != (ourErr == nil) {
			t.Fatalf("verdicts differ: reference ok=%v %q, ours %v", refOK, refMsg, ourErr)
		}
		if !refOK {
			if !strings.Contains(ourErr.Error(), redactQuoted(strings.TrimPrefix(refMsg, "wg-quick: "))) {
				t.Fatalf("our error %q does not carry the reference's %q", ourErr, refMsg)
			}
			return
		}
		stripped, err := config.Strip(data, config.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(refStrip, string(stripped)); diff != "" {
			t.Errorf("strip output differs (-reference +ours):\n%s", diff)
		}
		if diff := cmp.Diff(randomPort(c, refState), randomPort(c, d.setconf(t, config.Showconf(c)))); diff != "" {
			t.Errorf("device state differs (-reference parse +our parse):\n%s", diff)
		}
	})
	t.Logf("corpus files matching the reference, by folder: %v", counts)
}

// TestSeedsAgainstReference runs the real users' configs of
// shared/seeds (the five-node example and the two sites behind NAT)
// through both parsers, with real keys generated here in place of the
// placeholders. Host names in endpoints are kept for strip, which does not
// resolve them, and replaced by TEST-NET addresses for the device
// comparison, since this machine has no DNS.
func TestSeedsAgainstReference(t *testing.T) {
	d := newRefDevice(t)
	files, err := filepath.Glob("../../testdata/seeds/*/*.conf")
	if err != nil || len(files) != 8 {
		t.Fatalf("seeds: %d files, %v", len(files), err)
	}
	hosts := strings.NewReplacer(
		"public-server1.example-vpn.tld", "192.0.2.1",
		"public-server2.example-vpn.dev", "192.0.2.2",
		"home-server.example-vpn.dev", "192.0.2.3",
		"example.com", "198.51.100.1",
	)
	subst := placeholderKeys(t)
	for _, file := range files {
		t.Run(filepath.Base(filepath.Dir(file))+"/"+filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			data := []byte(subst.Replace(string(raw)))
			if strings.Contains(string(data), "<") {
				t.Fatalf("placeholder left in %s", data)
			}
			c, err := config.ParseQuick(data, config.Options{})
			if err != nil {
				t.Fatalf("ours rejects a seed config: %v", err)
			}
			if len(c.Interface.Addresses) != 1 || c.Interface.PrivateKey == nil || len(c.Peers) == 0 {
				t.Fatalf("seed parsed incompletely: %+v", c.Interface)
			}
			stripped, err := config.Strip(data, config.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// Endpoint names do not resolve here, so only strip is compared
			// on this text; the device comparison below uses addresses.
			refStrip, _, msg, _ := d.verdict(t, data)
			if refStrip == "" {
				t.Fatalf("reference strip failed: %s", msg)
			}
			if diff := cmp.Diff(refStrip, string(stripped)); diff != "" {
				t.Errorf("strip output differs (-reference +ours):\n%s", diff)
			}
			resolved := []byte(hosts.Replace(string(data)))
			_, refState, msg, ok := d.verdict(t, resolved)
			if !ok {
				t.Fatalf("reference rejects the seed: %s", msg)
			}
			c, err = ours(resolved, net.DefaultResolver)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(randomPort(c, refState), randomPort(c, d.setconf(t, config.Showconf(c)))); diff != "" {
				t.Errorf("device state differs (-reference parse +our parse):\n%s", diff)
			}
		})
	}
}

// placeholderKeys generates a key pair per node of the seeds and replaces
// the documents' "<private key for X>" and "<public key for X>".
func placeholderKeys(t *testing.T) *strings.Replacer {
	t.Helper()
	var pairs []string
	for _, node := range []string{"public-server1.example-vpn.tld", "public-server2.example-vpn.dev",
		"home-server.example-vpn.dev", "laptop.example-vpn.dev", "phone.example-vpn.dev"} {
		priv, err := keys.GeneratePrivate()
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs,
			"<private key for "+node+">", keys.Encode(priv),
			"<public key for "+node+">", keys.Encode(keys.Public(priv)))
	}
	return strings.NewReplacer(pairs...)
}
