package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReadFile: files up to MaxFileSize are read whole, whatever their
// kind; anything larger, including endless ones (a configuration
// symlinked to /dev/zero or /dev/urandom), is refused after at most
// MaxFileSize+1 bytes with ErrTooLarge in an *os.PathError.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, size int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte{'['}, size), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		path string
		want int // bytes read; -1: ErrTooLarge
	}{
		{"empty", write("empty", 0), 0},
		{"small", write("small", 100), 100},
		{"larger than a read", write("larger", 100<<10), 100 << 10},
		{"not a regular file", "/dev/null", 0},
		{"at the limit", write("max", MaxFileSize), MaxFileSize},
		{"one byte over", write("over", MaxFileSize+1), -1},
		{"endless device", "/dev/zero", -1},
		{"endless random", "/dev/urandom", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := ReadFile(tc.path)
			// ReadFileString reads the same, with the same errors.
			if text, serr := ReadFileString(tc.path); text != string(data) || (serr == nil) != (err == nil) || (err != nil && serr.Error() != err.Error()) {
				t.Errorf("ReadFileString(%s) = %d bytes, %v; ReadFile: %d bytes, %v", tc.path, len(text), serr, len(data), err)
			}
			if tc.want < 0 {
				var pe *os.PathError
				if !errors.Is(err, ErrTooLarge) || !errors.As(err, &pe) || pe.Path != tc.path {
					t.Fatalf("ReadFile(%s) = %d bytes, %v; want ErrTooLarge naming the file", tc.path, len(data), err)
				}
				return
			}
			if err != nil || len(data) != tc.want {
				t.Fatalf("ReadFile(%s) = %d bytes, %v; want %d", tc.path, len(data), err, tc.want)
			}
			// nil means "not known" to save's file mark: an empty file
			// read is not that.
			if data == nil {
				t.Errorf("ReadFile(%s) = nil, want an empty slice", tc.path)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	if _, err := ReadFileString(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file (ReadFileString): %v, want ErrNotExist", err)
	}
}

// TestParseMemoryBounded: whatever a file holds, parsing it allocates a
// small multiple of its size, never an amount taken from a count in it.
// Each input is 8 MiB of one unit repeated (the bound is linear, so the
// 32 MiB cap scales it by four); the worst are lists of the shortest
// allowed IPs ("::,", 14 times: 40 bytes an entry) and of minimal peers
// (11 times). Before the fix, a file of `[Peer]`
// lines allocated 76 times, one of blank lines 137 times, and one long
// AllowedIPs list 53 times its size.
func TestParseMemoryBounded(t *testing.T) {
	const size = 8 << 20
	const limit = 16 // times the input
	for _, tc := range []struct{ name, unit string }{
		{"brackets", "["},
		{"blank lines", "\n"},
		{"white space", " \n"},
		{"comments", "#\n"},
		{"junk lines", "x\n"},
		{"interface headers", "[Interface]\n"},
		{"keyless peers", "[Peer]\n"},
		{"minimal peers", "[Peer]\nPublicKey=" + pub1 + "\n"},
		{"long allowed-ips", "[Peer]\nPublicKey=" + pub1 + "\nAllowedIPs=" + strings.Repeat("::,", 50000) + "::/0\n"},
		{"commas", "[Peer]\nPublicKey=" + pub1 + "\nAllowedIPs=" + strings.Repeat(",", 1<<20) + "\n"},
	} {
		data := bytes.Repeat([]byte(tc.unit), size/len(tc.unit))
		for _, p := range []struct {
			name  string
			parse func([]byte, Options) (*Config, error)
		}{{"ParseQuick", ParseQuick}, {"ParseWG", ParseWG}} {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := p.parse(data, Options{})
			runtime.ReadMemStats(&after)
			ratio := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(data))
			t.Logf("%s, %s: %.1f× the input (err: %.50v)", tc.name, p.name, ratio, err)
			if ratio > limit {
				t.Errorf("%s, %s: allocated %.1f× the input's %d bytes, want at most %d×", tc.name, p.name, ratio, len(data), limit)
			}
		}
	}
}
