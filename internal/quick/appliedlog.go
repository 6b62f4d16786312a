package quick

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// The peers and routes of a journal's Applied (some 200 bytes a peer) are
// kept apart from the journal, in a log that each up or reload extends by
// what it changed: a reload of one peer among 10,000 writes one line, not
// the 10,000. The journal, rewritten whole by every record, names the log
// and how many of its bytes are committed (LogRef); a process killed while
// it appended leaves bytes past that length, which readers ignore and the
// next append cuts off. When the log has grown past twice the full state it
// is written afresh under the next generation's name, the journal then
// names the new one, and the old one is removed (or, after a kill, swept
// when the interface's lock is next taken).
//
// The loaded peers are in key order and the routes in (table, prefix)
// order, whatever order the files that made them had: the log does not keep
// order, which matters only to the order of reload's `[#]` lines.

// LogRef names the committed part of an applied-state log.
type LogRef struct {
	Gen  int   `json:"gen"`
	Len  int64 `json:"len"`  // committed bytes
	Base int64 `json:"base"` // bytes of the full state that began it
}

// logOp is one line of the log.
type logOp struct {
	Peer     *AppliedPeer  `json:"peer,omitempty"`     // set (added or changed)
	DelPeer  string        `json:"del_peer,omitempty"` // removed, by public key
	Route    *AppliedRoute `json:"route,omitempty"`    // added
	DelRoute *AppliedRoute `json:"del_route,omitempty"`
}

// appliedSet is what a log holds once replayed.
type appliedSet struct {
	peers  map[string]AppliedPeer
	routes map[AppliedRoute]bool
}

func setOf(a *Applied) *appliedSet {
	s := &appliedSet{peers: make(map[string]AppliedPeer, len(a.Peers)), routes: make(map[AppliedRoute]bool, len(a.Routes))}
	for _, p := range a.Peers {
		s.peers[p.PublicKey] = p
	}
	for _, r := range a.Routes {
		s.routes[r] = true
	}
	return s
}

// logPath is the file of one generation of the log of the journal at
// journal (IF.json → IF.applied.GEN.log).
func logPath(journal string, gen int) string {
	return strings.TrimSuffix(journal, ".json") + ".applied." + strconv.Itoa(gen) + ".log"
}

// logFiles lists the log files of the journal at journal, with their
// generations.
func logFiles(journal string) map[int]string {
	prefix := strings.TrimSuffix(filepath.Base(journal), ".json") + ".applied."
	entries, _ := os.ReadDir(filepath.Dir(journal))
	out := map[int]string{}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		if gen, err := strconv.Atoi(strings.TrimSuffix(rest, ".log")); err == nil && strings.HasSuffix(rest, ".log") {
			out[gen] = filepath.Join(filepath.Dir(journal), e.Name())
		}
	}
	return out
}

// sweepLogs removes the log files of the journal at journal other than
// generation keep (0: all): leftovers of a kill during a compaction, or of
// a journal that is gone.
func sweepLogs(journal string, keep int, step FileStep) error {
	for gen, path := range logFiles(journal) {
		if gen == keep {
			continue
		}
		if err := step.do("remove", path); err != nil {
			return err
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// encodeOps turns the difference from old (nil: nothing) to a into log
// lines.
func encodeOps(old *appliedSet, a *Applied) ([]byte, error) {
	if old == nil {
		old = &appliedSet{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	seen := make(map[string]bool, len(a.Peers))
	for i := range a.Peers {
		p := &a.Peers[i]
		seen[p.PublicKey] = true
		if o, ok := old.peers[p.PublicKey]; ok && reflect.DeepEqual(o, *p) {
			continue
		}
		if err := enc.Encode(logOp{Peer: p}); err != nil {
			return nil, err
		}
	}
	for _, k := range sortedKeysOf(old.peers) {
		if !seen[k] {
			if err := enc.Encode(logOp{DelPeer: k}); err != nil {
				return nil, err
			}
		}
	}
	now := make(map[AppliedRoute]bool, len(a.Routes))
	for i := range a.Routes {
		r := &a.Routes[i]
		now[*r] = true
		if !old.routes[*r] {
			if err := enc.Encode(logOp{Route: r}); err != nil {
				return nil, err
			}
		}
	}
	for _, r := range sortedRoutes(old.routes) {
		if !now[r] {
			if err := enc.Encode(logOp{DelRoute: &r}); err != nil {
				return nil, err
			}
		}
	}
	return b.Bytes(), nil
}

// persistApplied writes the log lines that bring the committed log to
// j.Applied and returns the reference the journal must then carry. Nothing
// it writes counts until the journal naming it is written.
func (j *Journal) persistApplied() (*LogRef, error) {
	ops, err := encodeOps(j.persisted, j.Applied)
	if err != nil {
		return nil, err
	}
	ref := j.Log
	if ref != nil && len(ops) == 0 {
		return ref, nil
	}
	if ref == nil || ref.Len+int64(len(ops)) > 2*ref.Base+64<<10 {
		// A new generation, from the full state.
		full, err := encodeOps(nil, j.Applied)
		if err != nil {
			return nil, err
		}
		gen := 1
		if ref != nil {
			gen = ref.Gen + 1
		}
		path := logPath(j.path, gen)
		if err := j.step.do("write", path); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, full, 0o600); err != nil {
			return nil, err
		}
		return &LogRef{Gen: gen, Len: int64(len(full)), Base: int64(len(full))}, nil
	}
	path := logPath(j.path, ref.Gen)
	if err := j.step.do("append", path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Bytes past the committed length are a killed writer's: cut them.
	if err := f.Truncate(ref.Len); err != nil {
		return nil, err
	}
	if _, err := f.WriteAt(ops, ref.Len); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return &LogRef{Gen: ref.Gen, Len: ref.Len + int64(len(ops)), Base: ref.Base}, nil
}

// readApplied fills j.Applied's peers and routes from the committed part of
// the log j names.
func (j *Journal) readApplied() error {
	path := logPath(j.path, j.Log.Gen)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading state: %w", err)
	}
	if int64(len(data)) < j.Log.Len {
		return fmt.Errorf("reading state %s: %d bytes, %d committed", path, len(data), j.Log.Len)
	}
	s := &appliedSet{peers: map[string]AppliedPeer{}, routes: map[AppliedRoute]bool{}}
	for n, line := range bytes.Split(bytes.TrimSuffix(data[:j.Log.Len], []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var op logOp
		if err := json.Unmarshal(line, &op); err != nil {
			return fmt.Errorf("reading state %s:%d: %w", path, n+1, err)
		}
		switch {
		case op.Peer != nil:
			s.peers[op.Peer.PublicKey] = *op.Peer
		case op.DelPeer != "":
			delete(s.peers, op.DelPeer)
		case op.Route != nil:
			s.routes[*op.Route] = true
		case op.DelRoute != nil:
			delete(s.routes, *op.DelRoute)
		}
	}
	j.Applied.Peers = j.Applied.Peers[:0]
	for _, k := range sortedKeysOf(s.peers) {
		j.Applied.Peers = append(j.Applied.Peers, s.peers[k])
	}
	j.Applied.Routes = sortedRoutes(s.routes)
	j.persisted = s
	return nil
}

func sortedKeysOf(m map[string]AppliedPeer) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedRoutes(m map[AppliedRoute]bool) []AppliedRoute {
	out := make([]AppliedRoute, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b AppliedRoute) int {
		if c := cmp.Compare(a.Table, b.Table); c != 0 {
			return c
		}
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits())
	})
	return out
}
