package config_test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgtools/wgtools/internal/config"
)

// corpusResolver answers as a resolver with only /etc/hosts' localhost
// would: the corpus names no other host that resolves, and the test must
// not depend on the network.
type corpusResolver struct{}

func (corpusResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	if host == "localhost" {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// corpusExpect is the `# expect:` line of a corpus file: the first line,
// after a byte order mark, or the second where the first is the file's
// subject (a BOM before "[Interface]").
func corpusExpect(data []byte) string {
	lines := strings.SplitN(string(data), "\n", 3)
	for _, l := range lines[:min(2, len(lines))] {
		l = strings.TrimPrefix(l, "\uFEFF")
		if rest, ok := strings.CutPrefix(l, "# expect: "); ok {
			return strings.TrimRight(rest, "\r")
		}
	}
	return ""
}

// TestCorpusVerdicts checks every file of testdata/conf against the
// verdict written in it, without root or the reference installed (what
// TestCorpusAgainstReference checks live): valid/, tricky/ and
// upstream-only/ parse, and each file in invalid/ fails with its
// `# expect:` message (its quoted input redacted as ours redacts it).
func TestCorpusVerdicts(t *testing.T) {
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
			c, err := config.ParseQuick(data, config.Options{File: "wgcorpus.conf"})
			if err == nil {
				err = config.ResolveEndpoints(context.Background(), c, corpusResolver{}, config.Retry{Retries: 0})
			}
			expect := corpusExpect(data)
			switch dir {
			case "valid", "tricky", "upstream-only":
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
			case "invalid":
				if expect == "" {
					t.Fatal("no `# expect:` line")
				}
				if err == nil {
					t.Fatalf("accepted; want %q", expect)
				}
				if want := redactQuoted(strings.TrimPrefix(expect, "wg-quick: ")); !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q does not carry %q", err, want)
				}
			default:
				t.Fatalf("unknown corpus folder %q", dir)
			}
			counts[dir]++
		})
	}
	t.Logf("corpus verdicts: %v", counts)
	if counts["invalid"] < 30 || counts["valid"] < 10 {
		t.Errorf("too few files checked: %v", counts)
	}
}
