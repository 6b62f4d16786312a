package config

import (
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
	f, size, err := openFile(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data := make([]byte, 0, max(size, 512))
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if len(data) > MaxFileSize {
			return nil, &os.PathError{Op: "read", Path: name, Err: ErrTooLarge}
		}
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: name, Err: err}
		}
	}
}

// ReadFileString is ReadFile for a caller that only parses the text (with
// ParseWGString), with the same limit: the file is read into the string
// itself, where ReadFile then ParseWG hold it twice (a file of 10,000
// peers is 1.3 MB).
func ReadFileString(name string) (string, error) {
	f, size, err := openFile(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var text strings.Builder
	text.Grow(size)
	buf := make([]byte, min(max(size, 512), 32<<10))
	for {
		n, err := f.Read(buf[:min(len(buf), MaxFileSize+1-text.Len())])
		text.Write(buf[:n])
		if text.Len() > MaxFileSize {
			return "", &os.PathError{Op: "read", Path: name, Err: ErrTooLarge}
		}
		if err == io.EOF {
			return text.String(), nil
		}
		if err != nil {
			return "", &os.PathError{Op: "read", Path: name, Err: err}
		}
	}
}

// openFile opens a configuration file and says how much to read at first:
// a regular file's size (bounded) and one byte more, which shows the end
// without regrowing the buffer; 0 for anything else.
func openFile(name string) (*os.File, int, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	size := 0
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = int(min(st.Size(), MaxFileSize)) + 1
	}
	return f, size, nil
}
