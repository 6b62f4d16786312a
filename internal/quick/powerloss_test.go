package quick

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSavePowerLoss models a power cut at every step of a configuration
// file's save (WriteConfig) and requires the file to be the old one or the
// new one afterwards, never empty nor partial, whatever the file system
// kept. The steps are the real ones, recorded through FileStep. The model
// is the one POSIX file systems give: data written to a file may be lost
// until it is fsynced; a rename may be lost until its directory is fsynced,
// and may reach the disk before the data written before it (ext4's
// delayed allocation) unless that data was fsynced first.
func TestSavePowerLoss(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wg0.conf")
	const oldText, newText = "old configuration\n", "new configuration\n"
	if err := os.WriteFile(path, []byte(oldText), 0o600); err != nil {
		t.Fatal(err)
	}
	var ops []string
	e := &Env{FileStep: func(op, _ string) error { ops = append(ops, op); return nil }}
	if err := e.WriteConfig(path, []byte(newText)); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != newText {
		t.Fatalf("after the save: %q", got)
	}
	if !slices.Contains(ops, "rename") {
		t.Fatalf("steps %v: no rename", ops)
	}
	// For a cut after each prefix of the steps, every state the disk may
	// hold for the path.
	for cut := 0; cut <= len(ops); cut++ {
		done := ops[:cut]
		written, synced, renamed, dirSynced := false, false, false, false
		for _, op := range done {
			switch op {
			case "write":
				written = true
			case "sync":
				synced = synced || written
			case "rename":
				renamed = true
			case "syncdir":
				dirSynced = dirSynced || renamed
			}
		}
		var outcomes []string
		switch {
		case !renamed:
			outcomes = []string{oldText}
		default:
			// The new name may point at the temporary file's inode,
			// whose data survived only if it was synced.
			data := []string{newText}
			if !synced {
				data = append(data, "", newText[:len(newText)/2])
			}
			outcomes = data
			if !dirSynced {
				outcomes = append(outcomes, oldText) // the rename itself lost
			}
		}
		for _, o := range outcomes {
			if o != oldText && o != newText {
				t.Errorf("power cut after %v: the file may be %q", done, o)
			}
		}
	}
	t.Logf("steps of a save: %v", ops)
}
