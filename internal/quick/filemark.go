package quick

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/aymanbagabas/go-udiff"

	"github.com/wgtools/wgtools/internal/config"
)

// The configuration file as it was last applied (up, reload) or saved.
// save compares the file with it, so as not to write over an edit the
// user made since (the most common complaint about SaveConfig). The
// journal keeps the file's SHA-256 (Journal.File); a copy with its secrets
// hidden sits beside the journal (seenPath), for the message that says
// what the edit was.

// fileMark is the mark of a file's bytes: their SHA-256, in hex; "" when
// the bytes are not known.
func fileMark(data []byte) string {
	if data == nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// seenPath is where the copy of the file beside a journal is kept.
func seenPath(journal string) string {
	return strings.TrimSuffix(journal, ".json") + ".applied.conf"
}

// markFile sets j's mark to data's and writes data's copy, secrets hidden.
// The copy is written first: the mark is what save trusts, and it never
// names a file older than the copy beside it. The caller saves j.
func (j *Journal) markFile(data []byte) error {
	m := fileMark(data)
	if data == nil || j.path == "" || (m == j.File && j.FileNext == "") {
		return nil // marked already: a reload of the same file writes no copy
	}
	if err := writeJournal(seenPath(j.path), config.RedactSecrets(data), j.step); err != nil {
		return err
	}
	j.File, j.FileNext = m, ""
	return nil
}

// removeSeen removes the copy beside j (if any).
func (j *Journal) removeSeen() error {
	p := seenPath(j.path)
	if err := j.step.do("remove", p); err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// editedSince reports whether data is not the file j last saw, and if so
// a diff from that file to data, secrets hidden. A journal with no mark
// (written before marks existed) sees no edit.
func (j *Journal) editedSince(file string, data []byte) (bool, string) {
	if j == nil || j.File == "" {
		return false, ""
	}
	if m := fileMark(data); m == j.File || m == j.FileNext {
		return false, ""
	}
	seen, err := os.ReadFile(seenPath(j.path))
	if err != nil {
		return true, ""
	}
	d := unifiedDiff(file+" (as last applied or saved)", file+" (now)", seen, config.RedactSecrets(data))
	if d == "" {
		d = "(only a hidden key differs)\n"
	}
	return true, d
}

// unifiedDiff is the unified diff from a to b ("" when they are equal).
func unifiedDiff(aName, bName string, a, b []byte) string {
	return udiff.Unified(aName, bName, string(a), string(b))
}
