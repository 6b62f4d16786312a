package route

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Routing tables that ip(8) knows by name without reading a file.
const (
	TableDefault = 253 // "default"
	TableMain    = 254 // "main"; table 0 means main wherever this package takes a table
	TableLocal   = 255 // "local"
)

// maxTableID is the largest table ID ip accepts (RT_TABLE_MAX).
const maxTableID = math.MaxUint32

// TableID resolves a routing table given as ip(8) takes it after "table": a
// name from the rt_tables files or a number (decimal, 0x-prefixed hex or
// 0-prefixed octal, as strtoul reads it) up to 4294967295. Names win over
// numbers, as in ip, and "main", "local" and "default" are 254, 255 and 253
// without any file.
//
// Like iproute2 6.x it reads ConfDir/rt_tables, or VendorConfDir/rt_tables
// if the former does not exist, then the *.conf files in
// VendorConfDir/rt_tables.d that ConfDir/rt_tables.d does not override,
// then those in ConfDir/rt_tables.d (in name order, where ip takes directory
// order). Unreadable files are skipped and a malformed line ends the reading
// of its file, as in ip, which also warns about it.
func (m *Manager) TableID(name string) (int, error) {
	if id, ok := m.tableNames().lookup(name); ok {
		return int(id), nil
	}
	if id, ok := parseTableNumber(name); ok {
		return int(id), nil
	}
	return 0, fmt.Errorf("resolving routing table %q: neither a number nor a name in %s", name, filepath.Join(m.confDir(), "rt_tables"))
}

// tableString renders a table ID as ip prints it by default, for messages.
func tableString(table int) string {
	switch table {
	case 0, TableMain:
		return "main"
	case TableLocal:
		return "local"
	case TableDefault:
		return "default"
	}
	return strconv.Itoa(table)
}

// tableNames reads the table names the way iproute2's
// rtnl_rttable_initialize does.
func (m *Manager) tableNames() *tableNames {
	t := newTableNames()
	etc, usr := m.confDir(), m.vendorConfDir()
	if err := t.readFile(filepath.Join(etc, "rt_tables")); errors.Is(err, fs.ErrNotExist) {
		t.readFile(filepath.Join(usr, "rt_tables"))
	}
	t.readDir(filepath.Join(usr, "rt_tables.d"), filepath.Join(etc, "rt_tables.d"))
	t.readDir(filepath.Join(etc, "rt_tables.d"), "")
	return t
}

// tableNames is iproute2's table name hash: 256 buckets by id&255, each a
// chain with the most recently read entry first. A name is looked up bucket
// by bucket, so when two entries share a name the one in the lower bucket,
// or the later one in the same bucket, wins.
type tableNames struct {
	buckets [256][]tableName // oldest first; lookups scan from the end
}

// tableName is one id-name entry.
type tableName struct {
	id   uint32
	name string
}

// newTableNames returns the built-in names.
func newTableNames() *tableNames {
	t := &tableNames{}
	t.add(TableDefault, "default")
	t.add(TableMain, "main")
	t.add(TableLocal, "local")
	return t
}

// add records a name read after all earlier ones.
func (t *tableNames) add(id uint32, name string) {
	b := &t.buckets[id&0xff]
	*b = append(*b, tableName{id: id, name: name})
}

// lookup returns the ID that ip would resolve name to.
func (t *tableNames) lookup(name string) (uint32, bool) {
	for _, b := range t.buckets {
		for i := len(b) - 1; i >= 0; i-- {
			if b[i].name == name {
				return b[i].id, true
			}
		}
	}
	return 0, false
}

// readFile adds the names in one rt_tables file and returns the error of
// opening it; a malformed line ends the file (rtnl_hash_initialize).
func (t *tableNames) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	parseRTTables(f, t.add)
	return nil
}

// readDir adds the names in the *.conf files of dir, skipping those that
// also exist in overrideDir (rtnl_tabhash_readdir).
func (t *tableNames) readDir(dir, overrideDir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || len(name) <= len(".conf") || !strings.HasSuffix(name, ".conf") {
			continue
		}
		if overrideDir != "" {
			if _, err := os.Lstat(filepath.Join(overrideDir, name)); err == nil {
				continue
			}
		}
		t.readFile(filepath.Join(dir, name))
	}
}

// parseRTTables calls add for each "ID NAME" line of an rt_tables file, in
// order, and stops with an error at the first malformed line, as iproute2's
// fread_id_name does with its sscanf formats "0x%x %s" and "%d %s": blank
// lines and lines starting with '#' are skipped, anything after the name is
// ignored, and entries with a negative ID (including hex IDs of 0x80000000
// and more, which %x stores into an int) are skipped.
func parseRTTables(r io.Reader, add func(id uint32, name string)) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || line[0] == '#' {
			continue
		}
		id, name, ok := parseRTTablesLine(line)
		if !ok {
			return fmt.Errorf("line %d: malformed entry %q", n, line)
		}
		if id >= 0 {
			add(uint32(id), name)
		}
	}
	return sc.Err()
}

// parseRTTablesLine reads one non-comment line like sscanf does: first as
// "0x%x %s", then as "%d %s". The ID is -1 when it does not fit a C int's
// non-negative range.
func parseRTTablesLine(line string) (id int64, name string, ok bool) {
	if rest, found := strings.CutPrefix(line, "0x"); found {
		if id, name, ok := scanIDName(rest, 16); ok {
			return id, name, true
		}
	}
	return scanIDName(line, 10)
}

// scanIDName reads an integer in base (after optional white space and
// sign, like scanf's %d and %x), then a white-space-delimited name.
func scanIDName(s string, base int) (id int64, name string, ok bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	end := 0
	for end < len(s) && isDigit(s[end], base) {
		end++
	}
	if end == 0 {
		return 0, "", false
	}
	v, err := strconv.ParseUint(s[:end], base, 64)
	switch {
	case err != nil || v > math.MaxInt32:
		id = -1 // out of int range: skipped either way
	case neg && v != 0:
		id = -1
	default:
		id = int64(v)
	}
	fields := strings.Fields(s[end:])
	if len(fields) == 0 {
		return 0, "", false
	}
	return id, fields[0], true
}

// isDigit reports whether c is a digit in base 10 or 16.
func isDigit(c byte, base int) bool {
	switch {
	case '0' <= c && c <= '9':
		return true
	case base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
		return true
	}
	return false
}

// parseTableNumber reads a table number the way ip does after a failed name
// lookup: strtoul with base 0, the whole string consumed, at most
// RT_TABLE_MAX.
func parseTableNumber(s string) (uint32, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isDigit(s[2], 16):
		base, s = 16, s[2:]
	case len(s) > 0 && s[0] == '0':
		base = 8
	}
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	v, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		return 0, false
	}
	if neg && v != 0 {
		return 0, false // strtoul negates in unsigned long: far above RT_TABLE_MAX
	}
	if v > maxTableID {
		return 0, false
	}
	return uint32(v), true
}
