package keys

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// Public keys of keySeq, keyZero and keyOnes, as printed by the reference
// wg pubkey.
const (
	pubSeq  = "j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8="
	pubZero = "L+V9o0fNYkMVKNqsX7spBzD/9oSvxM/C7ZCZX1jLO3Q="
	pubOnes = "hHwNLDdSNPNl5mCVUYejc1oPdhPRYJ06ak2MU66qWiI="
)

const (
	msgFormat   = "Key is not the correct length or format"
	msgTrailing = "Trailing characters found after key"
)

// pubkeyInputTests are wg pubkey standard inputs with the outcome the
// reference produces: the public key printed, or the error text after
// "wg: ". reference_test.go replays them against /usr/bin/wg.
var pubkeyInputTests = []struct {
	name string
	in   string
	pub  string // public key printed on success
	err  string // error text on failure
}{
	{name: "bare key", in: keySeq, pub: pubSeq},
	{name: "newline", in: keySeq + "\n", pub: pubSeq},
	{name: "CRLF", in: keySeq + "\r\n", pub: pubSeq},
	{name: "mixed whitespace", in: keySeq + "\n\n  \t\r\n", pub: pubSeq},
	{name: "vertical tab and form feed", in: keySeq + "\v\f", pub: pubSeq},
	{name: "two NULs", in: keySeq + "\x00\x00", pub: pubSeq},
	{name: "NULs and whitespace", in: keySeq + "\x00\n\x00 \x00", pub: pubSeq},
	{name: "lots of whitespace", in: keySeq + strings.Repeat(" \n", 40000), pub: pubSeq},
	{name: "zero key", in: keyZero + "\n", pub: pubZero},
	{name: "unclamped all ones", in: keyOnes + "\n", pub: pubOnes},
	{name: "empty", in: "", err: msgFormat},
	{name: "only newline", in: "\n", err: msgFormat},
	{name: "43 chars", in: keySeq[:43], err: msgFormat},
	{name: "43 chars and newline", in: keySeq[:43] + "\n", err: msgFormat},
	{name: "45 chars", in: keySeq + "=", err: msgTrailing},
	{name: "garbage after key", in: keySeq + "x", err: msgTrailing},
	{name: "garbage after whitespace", in: keySeq + "\n  x\n", err: msgTrailing},
	{name: "garbage after NUL", in: keySeq + "\x00x", err: msgTrailing},
	{name: "garbage after lots of whitespace", in: keySeq + strings.Repeat(" ", 70000) + "x", err: msgTrailing},
	{name: "two keys", in: keySeq + "\n" + keySeq + "\n", err: msgTrailing},
	{name: "leading space", in: " " + keySeq, err: msgTrailing},
	{name: "leading newline", in: "\n" + keySeq + "\n", err: msgTrailing},
	{name: "leading space short", in: " " + keySeq[:43], err: msgFormat},
	{name: "leading NUL short", in: "\x00" + keySeq[:43], err: msgFormat},
	{name: "NUL inside", in: replaceAt(keySeq, 10, 0), err: msgFormat},
	{name: "all padding", in: strings.Repeat("=", 44), err: msgFormat},
	{name: "all A no padding", in: strings.Repeat("A", 44), err: msgFormat},
	{name: "double padding", in: keySeq[:42] + "==", err: msgFormat},
	{name: "non-canonical", in: keyZero[:42] + "B=\n", err: msgFormat},
	{name: "non-canonical with garbage", in: keyZero[:42] + "B=x", err: msgTrailing},
	{name: "url alphabet", in: "-_" + keySeq[2:] + "\n", err: msgFormat},
	{name: "high byte after key", in: keySeq + "\x80", err: msgTrailing},
	{name: "latin1 NBSP after key", in: keySeq + "\xa0", err: msgTrailing},
	{name: "NEL after key", in: keySeq + "\x85", err: msgTrailing},
	{name: "unicode inside", in: "\u00e9" + keySeq[2:], err: msgFormat},
	{name: "hex key", in: strings.Repeat("0", 64), err: msgTrailing},
}

// errText returns err's text, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestReadPubkeyInput(t *testing.T) {
	for _, tt := range pubkeyInputTests {
		t.Run(tt.name, func(t *testing.T) {
			// OneByteReader makes every read boundary a possible bug site.
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				k, err := ReadPubkeyInput(r)
				if diff := cmp.Diff(tt.err, errText(err)); diff != "" {
					t.Fatalf("unexpected error (-want +got):\n%s", diff)
				}
				if err != nil {
					if tt.err == msgFormat && !errors.Is(err, ErrFormat) {
						t.Errorf("error %v is not ErrFormat", err)
					}
					if tt.err == msgTrailing && !errors.Is(err, ErrTrailing) {
						t.Errorf("error %v is not ErrTrailing", err)
					}
					continue
				}
				if diff := cmp.Diff(tt.pub, Encode(Public(k))); diff != "" {
					t.Errorf("unexpected public key (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestReadPubkeyInputReadErrors(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name string
		r    io.Reader
		err  string
	}{
		{
			name: "error before key",
			r:    iotest.ErrReader(errBoom),
			err:  msgFormat,
		},
		{
			name: "error inside key",
			r:    io.MultiReader(strings.NewReader(keySeq[:20]), iotest.ErrReader(errBoom)),
			err:  msgFormat,
		},
		{
			// wg(8)'s getc loop treats a read error like EOF.
			name: "error after key",
			r:    io.MultiReader(strings.NewReader(keySeq+"\n"), iotest.ErrReader(errBoom)),
		},
		{
			name: "data with error",
			r:    iotest.DataErrReader(strings.NewReader(keySeq + " \n")),
		},
		{
			name: "timeout after first read",
			r:    iotest.TimeoutReader(strings.NewReader(keySeq + " ")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadPubkeyInput(tt.r)
			if diff := cmp.Diff(tt.err, errText(err)); diff != "" {
				t.Errorf("unexpected error (-want +got):\n%s", diff)
			}
		})
	}
}

// keyFileTests are key-file contents with the outcome of wg set's
// parse_keyfile: the key read, or the message it prints. reference_test.go
// replays them against /usr/bin/wg.
var keyFileTests = []struct {
	name string
	in   string
	key  string // base64 key on success; keyZero for "remove the key"
	err  string
}{
	{name: "empty", in: "", key: keyZero},
	{name: "key", in: keySeq, key: keySeq},
	{name: "key and newline", in: keySeq + "\n", key: keySeq},
	{name: "key and all whitespace", in: keySeq + " \t\n\v\f\r", key: keySeq},
	{name: "zero key", in: keyZero + "\n", key: keyZero},
	{name: "key and spaces and x", in: keySeq + "  x", err: "Found trailing character in key file: `x'"},
	{name: "leading space", in: " " + keySeq + "\n", err: "Found trailing character in key file: `='"},
	{name: "trailing NUL", in: keySeq + "\x00", err: "Found trailing character in key file: `\x00'"},
	{name: "NUL after newline", in: keySeq + "\n\x00", err: "Found trailing character in key file: `\x00'"},
	{name: "trailing high byte", in: keySeq + "\xc3\xa9", err: "Found trailing character in key file: `\xc3'"},
	{name: "second key", in: keySeq + "\n" + keySeq, err: "Found trailing character in key file: `A'"},
	{name: "one newline", in: "\n", err: "Invalid length key in key file"},
	{name: "43 chars", in: keySeq[:43], err: "Invalid length key in key file"},
	{name: "43 chars and newline", in: keySeq[:43] + "\n", err: "Key is not the correct length or format: `" + keySeq[:43] + "\n'"},
	{name: "non-canonical", in: keyZero[:42] + "B=\n", err: "Key is not the correct length or format: `" + keyZero[:42] + "B='"},
	{name: "all padding", in: strings.Repeat("=", 44), err: "Key is not the correct length or format: `" + strings.Repeat("=", 44) + "'"},
	{name: "url alphabet", in: "-_" + keySeq[2:], err: "Key is not the correct length or format: `-_" + keySeq[2:] + "'"},
	{name: "NUL inside", in: replaceAt(keySeq, 10, 0), err: "Key is not the correct length or format: `" + keySeq[:10] + "'"},
	{name: "leading NUL", in: "\x00" + keySeq[1:], err: "Key is not the correct length or format: `'"},
	{name: "hex key", in: strings.Repeat("0", 64), err: "Found trailing character in key file: `0'"},
}

func TestReadKeyFile(t *testing.T) {
	for _, tt := range keyFileTests {
		t.Run(tt.name, func(t *testing.T) {
			readers := map[string]io.Reader{
				"strings.Reader": strings.NewReader(tt.in),
				"one byte":       iotest.OneByteReader(strings.NewReader(tt.in)),
			}
			for rname, r := range readers {
				k, err := ReadKeyFile(r)
				if diff := cmp.Diff(tt.err, errText(err)); diff != "" {
					t.Fatalf("%s: unexpected error (-want +got):\n%s", rname, diff)
				}
				if err != nil {
					continue
				}
				if diff := cmp.Diff(tt.key, Encode(k)); diff != "" {
					t.Errorf("%s: unexpected key (-want +got):\n%s", rname, diff)
				}
			}
		})
	}
}

func TestReadKeyFileErrorTypes(t *testing.T) {
	_, err := ReadKeyFile(strings.NewReader(keyZero[:42] + "B="))
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, ErrFormat) {
		t.Errorf("error %#v is not a *FormatError wrapping ErrFormat", err)
	} else if diff := cmp.Diff(keyZero[:42]+"B=", fe.Value); diff != "" {
		t.Errorf("unexpected FormatError.Value (-want +got):\n%s", diff)
	}

	_, err = ReadKeyFile(strings.NewReader(keySeq + "\xff"))
	var te *TrailingCharError
	if !errors.As(err, &te) || te.Char != 0xff {
		t.Errorf("error %#v is not a *TrailingCharError for 0xff", err)
	}

	_, err = ReadKeyFile(strings.NewReader("short"))
	if !errors.Is(err, ErrKeyFileLength) {
		t.Errorf("error %#v is not ErrKeyFileLength", err)
	}
}

func TestReadKeyFileSources(t *testing.T) {
	dir := t.TempDir()
	emptyPath := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyPath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "key")
	if err := os.WriteFile(keyPath, []byte(keySeq+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	advanced := strings.NewReader("x")
	if _, err := advanced.ReadByte(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		open func(t *testing.T) io.Reader
		key  string
		err  string
	}{
		{name: "empty file", open: openFile(emptyPath), key: keyZero},
		{name: "dev null", open: openFile(os.DevNull), key: keyZero},
		{name: "key file", open: openFile(keyPath), key: keySeq},
		{name: "directory", open: openFile(dir), err: "Invalid length key in key file"},
		{
			// wg(8) tests "empty" with ftell, which fails on a pipe.
			name: "empty pipe",
			open: pipeWith(""),
			err:  "Invalid length key in key file",
		},
		{name: "pipe with key", open: pipeWith(keySeq + "\n"), key: keySeq},
		{name: "pipe with leading space", open: pipeWith(" " + keySeq), err: "Found trailing character in key file: `='"},
		{
			name: "empty non-seeker",
			open: func(*testing.T) io.Reader { return iotest.OneByteReader(strings.NewReader("")) },
			key:  keyZero,
		},
		{
			// ftell would return 1, not 0.
			name: "empty at nonzero offset",
			open: func(*testing.T) io.Reader { return advanced },
			err:  "Invalid length key in key file",
		},
		{
			name: "read error before key",
			open: func(*testing.T) io.Reader { return iotest.ErrReader(errBoom) },
			err:  "Invalid length key in key file",
		},
		{
			name: "read error after key",
			open: func(*testing.T) io.Reader {
				return io.MultiReader(strings.NewReader(keySeq+"\n"), iotest.ErrReader(errBoom))
			},
			err: "getc: boom",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ReadKeyFile(tt.open(t))
			if diff := cmp.Diff(tt.err, errText(err)); diff != "" {
				t.Fatalf("unexpected error (-want +got):\n%s", diff)
			}
			if err == nil {
				if diff := cmp.Diff(tt.key, Encode(k)); diff != "" {
					t.Errorf("unexpected key (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// openFile returns an opener for path that closes the file at cleanup.
func openFile(path string) func(t *testing.T) io.Reader {
	return func(t *testing.T) io.Reader {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
}

// pipeWith returns an opener for the read end of a pipe holding data (which
// must fit in the pipe buffer) whose write end is already closed.
func pipeWith(data string) func(t *testing.T) io.Reader {
	return func(t *testing.T) io.Reader {
		t.Helper()
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		if _, err := io.WriteString(w, data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func TestFormatError(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{name: "plain", value: "abc", want: "Key is not the correct length or format: `abc'"},
		{name: "empty", value: "", want: "Key is not the correct length or format: `'"},
		{name: "NUL truncates", value: "ab\x00cd", want: "Key is not the correct length or format: `ab'"},
		{name: "newline kept", value: "ab\ncd", want: "Key is not the correct length or format: `ab\ncd'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, (&FormatError{Value: tt.value}).Error()); diff != "" {
				t.Errorf("unexpected text (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWorldAccessible(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		mode os.FileMode
		want bool
	}{
		{name: "0600", mode: 0o600},
		{name: "0640", mode: 0o640},
		{name: "0660", mode: 0o660},
		{name: "0700", mode: 0o700},
		{name: "0601", mode: 0o601, want: true},
		{name: "0602", mode: 0o602, want: true},
		{name: "0604", mode: 0o604, want: true},
		{name: "0644", mode: 0o644, want: true},
		{name: "0666", mode: 0o666, want: true},
		{name: "0000", mode: 0},
		{name: "0007", mode: 0o007, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := createWithMode(t, filepath.Join(dir, tt.name), tt.mode)
			if got := WorldAccessible(f); got != tt.want {
				t.Errorf("WorldAccessible(mode %04o) = %v, want %v", tt.mode, got, tt.want)
			}
		})
	}

	t.Run("non-regular", func(t *testing.T) {
		devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer devNull.Close()
		d, err := os.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		for _, f := range []*os.File{devNull, d, w} {
			if WorldAccessible(f) {
				t.Errorf("WorldAccessible(%s) = true for a non-regular file", f.Name())
			}
		}
	})

	t.Run("closed", func(t *testing.T) {
		f := createWithMode(t, filepath.Join(dir, "closed"), 0o666)
		f.Close()
		if WorldAccessible(f) {
			t.Error("WorldAccessible of a closed file = true")
		}
	})
}

// createWithMode creates path for writing with exactly mode, whatever the
// umask, and closes it at cleanup.
func createWithMode(t *testing.T, path string, mode os.FileMode) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Chmod(mode); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSentinels(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{ErrFormat, msgFormat},
		{ErrTrailing, msgTrailing},
		{ErrKeyFileLength, "Invalid length key in key file"},
		{&TrailingCharError{Char: 'x'}, "Found trailing character in key file: `x'"},
		{&TrailingCharError{Char: 0xe9}, "Found trailing character in key file: `\xe9'"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.err.Error()); diff != "" {
				t.Errorf("unexpected text (-want +got):\n%s", diff)
			}
		})
	}
}
