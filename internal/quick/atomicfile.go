package quick

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FileStep is called before each system call of a file write or removal
// (op is "create", "write", "sync", "rename", "syncdir", "remove"), with
// the path it is about; an error stops the write there as that call's failure would.
// Fault injection counts these calls to fail or kill the process at each;
// nil calls nothing.
type FileStep func(op, path string) error

func (f FileStep) do(op, path string) error {
	if f == nil {
		return nil
	}
	return f(op, path)
}

// tempPattern is the name of the temporary files writeFileAtomic makes
// beside path.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".tmp*" }

// removeStaleTemps removes the temporary files of path's earlier writes
// that a kill left behind.
func removeStaleTemps(path string, step FileStep) error {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return nil // the write itself will say what is wrong
	}
	prefix := strings.TrimSuffix(tempPattern(path), "*")
	for _, ent := range entries {
		if !strings.HasPrefix(ent.Name(), prefix) || ent.IsDir() {
			continue
		}
		stale := filepath.Join(filepath.Dir(path), ent.Name())
		if err := step.do("remove", stale); err != nil {
			return err
		}
		if err := os.Remove(stale); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing a stale temporary file: %w", err)
		}
	}
	return nil
}

// writeFileAtomic writes a file so that a crash leaves either the old or
// the new content: a temporary file in the same directory, fsync (when
// durable), rename, then fsync of the directory (when durable). The
// temporary file a killed writer leaves (it may hold a private key) is
// removed by the next command on the interface, once it holds the lock
// (Env.lock); every writer holds it, so none of them is live then.
func writeFileAtomic(path string, data []byte, mode os.FileMode, durable bool, step FileStep) error {
	dir := filepath.Dir(path)
	if err := step.do("create", path); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tempPattern(path))
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := step.do("write", tmp); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if durable {
		if err := step.do("sync", tmp); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := step.do("rename", path); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if durable {
		if err := step.do("syncdir", dir); err != nil {
			return err
		}
		if d, err := os.Open(dir); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
}
