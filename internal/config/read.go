package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
)

// MaxFileSize is the largest configuration file read: 32 MiB. A device of
// 100,000 peers, each with a PresharedKey, an Endpoint and two AllowedIPs,
// is some 24 MB; real files are kilobytes. The cap is there because the
// file may be anything (a symlink to /dev/urandom, a pipe that never
// ends), and the parsers hold it whole in memory; the memory the parse of
// the largest file takes is measured in bench_test.go.
const MaxFileSize = 32 << 20

// ErrTooLarge is returned by ReadFile for a file above MaxFileSize.
var ErrTooLarge = errors.New("larger than 32 MiB, the most a configuration file may be")

// ReadFile reads a configuration file, of any kind (a regular file, a pipe
// or /dev/stdin, as wg's fopen reads), refusing one above MaxFileSize
// after reading at most one byte more. Errors opening or reading it are
// *os.PathError, as os.ReadFile's.
func ReadFile(name string) ([]byte, error) {
	var data bytes.Buffer
	if err := readFile(name, &data); err != nil {
		return nil, err
	}
	if data.Len() == 0 {
		return []byte{}, nil // read, and empty: not nil, which means unknown
	}
	return data.Bytes(), nil
}

// ReadFileString is ReadFile for a caller that only parses the text (with
// ParseWGString): the file is read into the string itself, where ReadFile
// then ParseWG hold it twice (a file of 10,000 peers is 1.3 MB).
func ReadFileString(name string) (string, error) {
	var text strings.Builder
	if err := readFile(name, &text); err != nil {
		return "", err
	}
	return text.String(), nil
}

// readFile is ReadFile and ReadFileString's one loop, into a bytes.Buffer
// or a strings.Builder. A regular file says its size: dst grows to it
// (bounded) and one byte more at once, which shows the end without
// regrowing.
func readFile(name string, dst interface {
	io.Writer
	Grow(int)
	Len() int
}) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	size := 0
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = int(min(st.Size(), MaxFileSize)) + 1
	}
	dst.Grow(size)
	buf := make([]byte, min(max(size, 512), 32<<10))
	for {
		n, err := f.Read(buf[:min(len(buf), MaxFileSize+1-dst.Len())])
		dst.Write(buf[:n])
		if dst.Len() > MaxFileSize {
			return &os.PathError{Op: "read", Path: name, Err: ErrTooLarge}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &os.PathError{Op: "read", Path: name, Err: err}
		}
	}
}
