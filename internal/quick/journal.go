package quick

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Undo is one recorded change that must be reverted on rollback or down.
// Only changes that outlive the interface's link are recorded: deleting the
// link takes its addresses and routes with it.
type Undo struct {
	Kind string `json:"kind"` // "link", "rule", "firewall", "dns", "sysctl"

	// link
	Userspace bool `json:"userspace,omitempty"`

	// rule
	Family   int    `json:"family,omitempty"`
	Priority int    `json:"priority,omitempty"`
	Table    int    `json:"table,omitempty"`
	Mark     uint32 `json:"mark,omitempty"`
	Invert   bool   `json:"invert,omitempty"`
	Suppress int    `json:"suppress,omitempty"` // -1: none

	// dns: the commands that revert it, as recorded at up time
	DNSUnset []string `json:"dns_unset,omitempty"`

	// firewall: which backend installed the rules ("" is nftables), and
	// the families it holds rules of.
	Backend  string `json:"backend,omitempty"`
	Families []int  `json:"families,omitempty"`

	// sysctl
	Key string `json:"key,omitempty"`
	Old string `json:"old,omitempty"`
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

// Applied is the configuration in force on an interface, as the last up or
// reload applied it. Reload compares a file against it rather than against
// the device, whose endpoints roam and whose counters and handshakes must
// not matter. It holds no secret: the private key is kept as its public
// key, a preshared key as the SHA-256 of its bytes.
type Applied struct {
	PublicKey  string         `json:"public_key,omitempty"`
	ListenPort *int           `json:"listen_port,omitempty"`
	FwMark     *uint32        `json:"fwmark,omitempty"`
	Addresses  []netip.Prefix `json:"addresses,omitempty"`
	DNS        []netip.Addr   `json:"dns,omitempty"`
	DNSSearch  []string       `json:"dns_search,omitempty"`
	MTU        int            `json:"mtu,omitempty"` // 0: automatic
	Table      string         `json:"table,omitempty"`
	Peers      []AppliedPeer  `json:"peers,omitempty"`

	// Mark is the fwmark the device got: FwMark, else the table a full
	// tunnel found free, else 0.
	Mark uint32 `json:"mark,omitempty"`
	// Routes are the routes up and reload added through the interface
	// (the kernel's own routes for its addresses are not among them).
	Routes []AppliedRoute `json:"routes,omitempty"`

	// routeIndex mirrors Routes for addRoute; it is rebuilt whenever Routes
	// was replaced behind its back (its length no longer matches).
	routeIndex map[AppliedRoute]bool
}

// AppliedPeer is one peer as the device holds it after every [Peer]
// section of its key was applied in file order: a later section's
// AllowedIPs replace an earlier one's, and a prefix belongs to the last
// peer given it.
type AppliedPeer struct {
	PublicKey string `json:"public_key"`
	PSK       string `json:"psk_sha256,omitempty"`
	// Endpoint is as written: a host name stays a name, so that reload
	// neither resolves nor resends an unchanged one.
	Endpoint   string         `json:"endpoint,omitempty"`
	Keepalive  int            `json:"persistent_keepalive,omitempty"`
	AllowedIPs []netip.Prefix `json:"allowed_ips,omitempty"` // masked
}

// AppliedRoute is one route through the interface; Table 0 is main.
type AppliedRoute struct {
	Prefix netip.Prefix `json:"prefix"`
	Table  int          `json:"table,omitempty"`
}

// addRoute notes a route added through the interface.
func (a *Applied) addRoute(p netip.Prefix, table int) {
	if a == nil {
		return
	}
	r := AppliedRoute{Prefix: p, Table: table}
	// An index instead of a search per route, which made up quadratic in
	// the number of peers.
	if a.routeIndex == nil || len(a.routeIndex) != len(a.Routes) {
		a.routeIndex = make(map[AppliedRoute]bool, len(a.Routes))
		for _, x := range a.Routes {
			a.routeIndex[x] = true
		}
	}
	if !a.routeIndex[r] {
		a.routeIndex[r] = true
		a.Routes = append(a.Routes, r)
	}
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
		a.Peers, a.Routes, a.routeIndex = nil, nil, nil
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

// lockExisting takes iface's lock and checks that iface is a WireGuard
// interface: the start of every verb that works on a running interface
// (save, reload, reresolve).
func (e *Env) lockExisting(ctx context.Context, iface string) (unlock func(), err error) {
	unlock, err = e.lock(ctx, iface)
	if err != nil {
		return nil, err
	}
	if err := e.requireWireGuard(iface); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// requireWireGuard fails, with wg-quick's message, unless iface is a
// WireGuard interface.
func (e *Env) requireWireGuard(iface string) error {
	names, err := e.Device.Names()
	if err != nil {
		return err
	}
	if !slices.Contains(names, iface) {
		return notWireGuard(iface)
	}
	return nil
}

// notWireGuard is wg-quick's error for a name that is no WireGuard
// interface.
func notWireGuard(iface string) error {
	return &Error{fmt.Sprintf("`%s' is not a WireGuard interface", iface)}
}

// lock takes iface's lock (see lock) and then removes the temporary files
// a killed earlier run left beside the interface's journal and its
// configuration file (a configuration's may hold its private key): every
// writer of those holds this lock, so none of them is live.
func (e *Env) lock(ctx context.Context, iface string) (unlock func(), err error) {
	unlock, err = lock(ctx, e.StateDir, iface)
	if err != nil {
		return nil, err
	}
	jp := journalPath(e.StateDir, iface)
	_ = removeStaleTemps(jp, e.FileStep)
	_ = sweepLogs(jp, logGen(jp), e.FileStep)
	if e.ConfigFile != "" {
		_ = removeStaleTemps(e.ConfigFile, e.FileStep)
	}
	return unlock, nil
}

// lockPoll is how often a wait for the interface's lock tries again.
const lockPoll = 20 * time.Millisecond

// lock takes the interface's lock file, waiting for another wg-quick
// working on the same interface to finish, or until ctx ends (SIGINT or
// SIGTERM: `systemctl stop` of a unit whose `down` waits): then it returns
// an error and nothing has changed. The wait polls a non-blocking flock(2),
// since a blocking one cannot be interrupted.
//
// The lock file is removed again on unlock (and a namespace's directory
// with its last file), so that namespaces that come and go leave nothing
// behind. That is safe because a locker checks, once it holds the lock,
// that the file it locked is still the one at the path: one that waited on
// a file its holder then removed starts over on the new file.
func lock(ctx context.Context, dir, iface string) (unlock func(), err error) {
	path := filepath.Join(dir, iface+".lock")
	// Each retry means another locker got through, so this ends; the
	// bound only turns a bug into an error instead of a spin.
	for range 100000 {
		if err := os.MkdirAll(dir, 0o700); errors.Is(err, fs.ErrExist) {
			continue // made and removed again by others meanwhile
		} else if err != nil {
			return nil, fmt.Errorf("creating %s: %w", dir, err)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
		if errors.Is(err, fs.ErrNotExist) {
			continue // the directory went with another's unlock
		} else if err != nil {
			return nil, fmt.Errorf("opening lock: %w", err)
		}
		nested, err := flockWait(ctx, f)
		if err != nil {
			f.Close()
			if ctx.Err() != nil {
				return nil, &Error{fmt.Sprintf("Stopped waiting for another wg-quick working on `%s' (%s): %v; nothing was changed", iface, path, context.Cause(ctx))}
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if nested {
			// Run by a hook of the wg-quick holding the lock, which
			// waits for it: work under its lock, and leave the file.
			return func() { f.Close() }, nil
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 != nil || err2 != nil || !os.SameFile(held, now) {
			f.Close()
			continue
		}
		return func() {
			os.Remove(path)
			if strings.HasPrefix(filepath.Base(dir), "netns-") {
				os.Remove(dir) // fails while other files are in it
			}
			f.Close()
		}, nil
	}
	return nil, fmt.Errorf("locking %s: the lock file keeps being replaced", path)
}

// flockWait takes an exclusive flock(2) on f, trying every lockPoll until
// it gets it or ctx ends. It does not wait when the holder is an ancestor
// of this process (nested): then this is a wg-quick run by a hook of the
// wg-quick holding the lock (`PostUp = wg-quick save %i`), which waits for
// the hook and so for this process: waiting for it would never end, where
// the reference, which has no lock, just works. Any other holder is
// waited for, so independent invocations stay serialised; a hook's
// wg-quick left running in the background finds its ancestor gone and
// waits like any other.
func flockWait(ctx context.Context, f *os.File) (nested bool, err error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return false, err
		}
		if heldByAncestor(f) {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, context.Cause(ctx)
		case <-time.After(lockPoll):
		}
	}
}

// heldByAncestor reports whether the flock on f's file is held by a
// parent, grandparent... of this process (not by this process itself), as
// /proc/locks names the holder of each lock by process ID, file system and
// inode.
func heldByAncestor(f *os.File) bool {
	st, err := f.Stat()
	if err != nil {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		return false
	}
	// "1: FLOCK  ADVISORY  WRITE 24722 fe:00:10002674 0 EOF"; waiters'
	// lines have "->" after the number.
	id := fmt.Sprintf("%02x:%02x:%d", unix.Major(uint64(sys.Dev)), unix.Minor(uint64(sys.Dev)), sys.Ino)
	holders := map[int]bool{}
	for line := range strings.Lines(string(locks)) {
		fields := strings.Fields(line)
		if len(fields) < 6 || fields[1] != "FLOCK" || fields[5] != id {
			continue
		}
		if pid, err := strconv.Atoi(fields[4]); err == nil {
			holders[pid] = true
		}
	}
	if len(holders) == 0 {
		return false
	}
	// Up the parent chain, bounded (a chain has no loops, but /proc may
	// change under the walk).
	for pid, n := os.Getppid(), 0; pid > 1 && n < 64; n++ {
		if holders[pid] {
			return true
		}
		if pid = parentOf(pid); pid <= 0 {
			return false
		}
	}
	return false
}

// parentOf is a process's parent ID from /proc/PID/stat, or -1.
func parentOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return -1
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return -1
	}
	return ppid
}
