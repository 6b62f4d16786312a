package config_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
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
	counts := eachCorpusFile(t, func(t *testing.T, dir string, data []byte) {
		_, err := ours(data, corpusResolver{})
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
	})
	t.Logf("corpus verdicts: %v", counts)
	if counts["invalid"] < 30 || counts["valid"] < 10 {
		t.Errorf("too few files checked: %v", counts)
	}
}
