package quick

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// UndoKind is what an Undo record reverts.
type UndoKind string

// The kinds of records; the strings are the journal's.
const (
	UndoLink     UndoKind = "link"     // the link (and its userspace device)
	UndoRule     UndoKind = "rule"     // a full tunnel's policy rule
	UndoFirewall UndoKind = "firewall" // the interface's firewall tables
	UndoDNS      UndoKind = "dns"      // the interface's DNS record
	UndoSysctl   UndoKind = "sysctl"   // a sysctl changed
)

// Undo is one recorded change that must be reverted on rollback or down.
// Only changes that outlive the interface's link are recorded: deleting the
// link takes its addresses and routes with it.
type Undo struct {
	Kind UndoKind `json:"kind"`

	// link
	Userspace bool `json:"userspace,omitempty"`

	// rule
	Family   int    `json:"family,omitempty"`
	Priority int    `json:"priority,omitempty"`
	Table    int    `json:"table,omitempty"`
	Mark     uint32 `json:"mark,omitempty"`
	Invert   bool   `json:"invert,omitempty"`
	Suppress int    `json:"suppress,omitempty"` // -1: none

	// dns: the commands that revert it, as recorded when it was set
	// (the DNS tool may be another by the time of down).
	DNSUndo []Command `json:"dns_undo,omitempty"`
	// DNSUnset is how journals before DNSUndo held those commands: each
	// one's words joined with NULs. loadJournal turns it into DNSUndo.
	DNSUnset []string `json:"dns_unset,omitempty"`

	// firewall: which backend installed the rules ("" is nftables), and
	// the families it holds rules of.
	Backend  string `json:"backend,omitempty"`
	Families []int  `json:"families,omitempty"`

	// sysctl
	Key string `json:"key,omitempty"`
	Old string `json:"old,omitempty"`
}

// Command is a program and its arguments.
type Command struct {
	Name string   `json:"name"`
	Args []string `json:"args,omitempty"`
}

// Journal is the state file of one interface: what `up` and `reload`
// changed, and the configuration they applied.
type Journal struct {
	Interface string `json:"interface"`
	Complete  bool   `json:"complete"` // up finished
	// Reloading says a reload began changing the interface and did not
	// finish or roll back (it was killed): Applied may not describe the
	// interface, and the next reload restarts it from its file instead of
	// comparing against Applied.
	Reloading bool   `json:"reloading,omitempty"`
	Undo      []Undo `json:"undo"`
	// Applied is the configuration in force, the baseline reload compares
	// a file against. Journals written before reload existed lack it. Its
	// peers and routes are kept in the log Log names (see appliedlog.go).
	Applied *Applied `json:"applied,omitempty"`
	Log     *LogRef  `json:"applied_log,omitempty"`
	// File is the mark (fileMark) of the configuration file as last
	// applied or saved; "" when not known.
	File string `json:"file_sha256,omitempty"`
	// FileNext is the mark of the file a save is writing: until the save
	// ends, the file may be either, and both are the save's own.
	FileNext string `json:"file_next_sha256,omitempty"`
	// persisted is what the committed log holds (nil: no log yet).
	persisted *appliedSet

	path  string
	read  []byte                               // the file as it was read (nil: not read)
	write func(path string, data []byte) error // nil: writeJournal
	step  FileStep                             // nil: none
}

// current reports whether the journal file still holds what j was read
// from, so that j, read without the lock, may serve under it. The file is
// small (the peers are in the log it names, with its committed length),
// so comparing it is cheap and, unlike an inode number, cannot be fooled
// by a reused inode.
func (j *Journal) current() bool {
	if j.read == nil {
		return false
	}
	data, err := os.ReadFile(j.path)
	return err == nil && bytes.Equal(data, j.read)
}

// StateDir is where journals and lock files live.
const StateDir = "/run/wgtools"

func journalPath(dir, iface string) string { return filepath.Join(dir, iface+".json") }

// loadJournal reads an interface's journal from e's state directory,
// written back through e.WriteState; a missing one is (nil, nil).
func (e *Env) loadJournal(iface string) (*Journal, error) {
	j, err := loadJournal(e.StateDir, iface)
	if j != nil {
		j.write, j.step = e.WriteState, e.FileStep
	}
	return j, err
}

// newJournal is an empty journal for iface in e's state directory.
func (e *Env) newJournal(iface string) *Journal {
	return &Journal{Interface: iface, path: journalPath(e.StateDir, iface), write: e.WriteState, step: e.FileStep}
}

// loadJournal reads an interface's journal; a missing one is (nil, nil).
func loadJournal(dir, iface string) (*Journal, error) {
	data, err := os.ReadFile(journalPath(dir, iface))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading state: %w", err)
	}
	j := &Journal{path: journalPath(dir, iface), read: data}
	if err := json.Unmarshal(data, j); err != nil {
		return nil, fmt.Errorf("reading state %s: %w", j.path, err)
	}
	for i := range j.Undo {
		u := &j.Undo[i]
		for _, c := range u.DNSUnset {
			words := strings.Split(c, "\x00")
			u.DNSUndo = append(u.DNSUndo, Command{Name: words[0], Args: words[1:]})
		}
		u.DNSUnset = nil
	}
	if j.Applied != nil && j.Log != nil {
		if err := j.readApplied(); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// journalHead is what can be known of a journal without replaying its
// applied-state log.
type journalHead struct {
	Complete bool    `json:"complete"`
	Log      *LogRef `json:"applied_log"`
}

// peekJournal reads a journal's head (nil: no journal, or unreadable).
func peekJournal(path string) *journalHead {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var h journalHead
	if json.Unmarshal(data, &h) != nil {
		return nil
	}
	return &h
}

// logGen is the log generation the journal at path names (0: none).
func logGen(path string) int {
	if h := peekJournal(path); h != nil && h.Log != nil {
		return h.Log.Gen
	}
	return 0
}

// record appends a change and persists the journal before returning, so
// that a crash right after the change still leaves it undoable.
func (j *Journal) record(u Undo) error {
	j.Undo = append(j.Undo, u)
	return j.save()
}

// save writes the journal. Applied is written only when it describes the
// interface (up complete, no reload under way), so that an up or reload
// commits it once, at its end, rather than with each record (the records a
// crash leaves are all down needs); and its peers and routes, a few hundred
// bytes per peer, go to the log as what changed since its last commit.
func (j *Journal) save() error {
	if j.path == "" {
		return nil
	}
	out := *j
	var committed *appliedSet
	if !j.Complete || j.Reloading || j.Applied == nil {
		out.Applied = nil
	} else {
		ref, err := j.persistApplied()
		if err != nil {
			return fmt.Errorf("writing state: %w", err)
		}
		a := *j.Applied
		a.Peers, a.Routes = nil, nil
		out.Applied, out.Log = &a, ref
		committed = setOf(j.Applied)
	}
	data, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return err
	}
	write := j.write
	if write == nil {
		write = func(path string, data []byte) error { return writeJournal(path, data, j.step) }
	}
	if err := write(j.path, append(data, '\n')); err != nil {
		return err
	}
	if committed != nil {
		old := j.Log
		j.Log, j.persisted = out.Log, committed
		if old != nil && old.Gen != j.Log.Gen {
			return sweepLogs(j.path, j.Log.Gen, j.step)
		}
	}
	return nil
}

// writeJournal writes a journal file atomically (temporary file, rename),
// mode 0600. No fsync: the journal lives in /run, which does not outlive a
// reboot, and neither do the links and rules it describes; a killed process
// is covered by the rename alone. (fsyncs made up to a third of a one-peer
// `up` on disk-backed /run.)
func writeJournal(path string, data []byte, step FileStep) error {
	return writeFileAtomic(path, data, 0o600, false, step)
}

func (j *Journal) remove() error {
	if j.path == "" {
		return nil
	}
	if err := j.removeSeen(); err != nil {
		return err
	}
	if err := j.step.do("remove", j.path); err != nil {
		return err
	}
	if err := sweepLogs(j.path, 0, j.step); err != nil {
		return err
	}
	if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
