package route

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func Test_parseRTTables(t *testing.T) {
	type entry struct {
		ID   uint32
		Name string
	}
	tests := []struct {
		name    string
		in      string
		want    []entry
		wantErr bool
	}{
		{
			name: "debian default",
			in:   "#\n# reserved values\n#\n255\tlocal\n254\tmain\n253\tdefault\n0\tunspec\n#\n# local\n#\n#1\tinr.ruhep\n",
			want: []entry{{255, "local"}, {254, "main"}, {253, "default"}, {0, "unspec"}},
		},
		{
			name: "indented, blank lines and trailing comments",
			in:   "  \t100 vpn # the vpn\n\n\t200\tlan\t#x\n",
			want: []entry{{100, "vpn"}, {200, "lan"}},
		},
		{
			name: "hex ids",
			in:   "0x10 sixteen\n0xCA6C wg\n",
			want: []entry{{16, "sixteen"}, {51820, "wg"}},
		},
		{
			name: "name ends at white space only",
			in:   "7 foo#bar baz\n",
			want: []entry{{7, "foo#bar"}},
		},
		{
			name: "negative and int-overflowing ids are skipped",
			in:   "-5 neg\n0x80000000 big\n4294967296 huge\n8 ok\n",
			want: []entry{{8, "ok"}},
		},
		{
			name: "digits run into the name as with sscanf",
			in:   "12abc foo\n",
			want: []entry{{12, "abc"}},
		},
		{
			name:    "malformed line ends the file",
			in:      "1 one\nbogus\n2 two\n",
			want:    []entry{{1, "one"}},
			wantErr: true,
		},
		{
			name:    "id without name",
			in:      "3\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []entry
			err := parseRTTables(strings.NewReader(tt.in), func(id uint32, name string) {
				got = append(got, entry{id, name})
			})
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseRTTables error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("unexpected entries (-want +got):\n%s", diff)
			}
		})
	}
}

func Test_parseTableNumber(t *testing.T) {
	tests := []struct {
		in     string
		want   uint32
		wantOK bool
	}{
		{"51820", 51820, true},
		{"0", 0, true},
		{"0x10", 16, true},
		{"0XfF", 255, true},
		{"010", 8, true},
		{"+5", 5, true},
		{" 7", 7, true},
		{"-0", 0, true},
		{"4294967295", 4294967295, true},
		{"4294967296", 0, false},
		{"-1", 0, false},
		{"08", 0, false},
		{"0x", 0, false},
		{"", 0, false},
		{"12 ", 0, false},
		{"1_000", 0, false},
		{"0b1", 0, false},
		{"0o7", 0, false},
		{"main", 0, false},
		{"+-1", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseTableNumber(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseTableNumber(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

// writeFiles creates the files (path relative to dir: content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestManagerTableID(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string // relative to a directory holding etc/ and usr/
		in      string
		want    int
		wantErr bool
	}{
		{name: "number without files", in: "51820", want: 51820},
		{name: "built-in main", in: "main", want: 254},
		{name: "built-in local", in: "local", want: 255},
		{name: "built-in default", in: "default", want: 253},
		{name: "unspec needs the file", in: "unspec", wantErr: true},
		{name: "unknown name", in: "vpn", wantErr: true},
		{name: "too large", in: "4294967296", wantErr: true},
		{
			name:  "name from etc",
			files: map[string]string{"etc/rt_tables": "255 local\n254 main\n253 default\n0 unspec\n100 vpn\n"},
			in:    "vpn", want: 100,
		},
		{
			name:  "unspec from etc",
			files: map[string]string{"etc/rt_tables": "0 unspec\n"},
			in:    "unspec", want: 0,
		},
		{
			name: "vendor file only when etc has none",
			files: map[string]string{
				"usr/rt_tables": "101 vendor\n",
			},
			in: "vendor", want: 101,
		},
		{
			name: "vendor file ignored when etc has one",
			files: map[string]string{
				"etc/rt_tables": "100 vpn\n",
				"usr/rt_tables": "101 vendor\n",
			},
			in: "vendor", wantErr: true,
		},
		{
			name: "rt_tables.d conf files from both",
			files: map[string]string{
				"etc/rt_tables.d/a.conf": "102 etcd\n",
				"usr/rt_tables.d/b.conf": "103 usrd\n",
			},
			in: "usrd", want: 103,
		},
		{
			name: "etc rt_tables.d overrides the vendor file of the same name",
			files: map[string]string{
				"etc/rt_tables.d/x.conf": "104 other\n",
				"usr/rt_tables.d/x.conf": "105 hidden\n",
			},
			in: "hidden", wantErr: true,
		},
		{
			name: "only .conf files",
			files: map[string]string{
				"etc/rt_tables.d/x.txt":  "106 txt\n",
				"etc/rt_tables.d/.conf":  "107 dot\n",
				"etc/rt_tables.d/y.conf": "108 conf\n",
			},
			in: "txt", wantErr: true,
		},
		{
			name:  "a name beats a number",
			files: map[string]string{"etc/rt_tables": "7 100\n"},
			in:    "100", want: 7,
		},
		{
			name:  "the later entry in the same bucket wins",
			files: map[string]string{"etc/rt_tables": "5 dup\n261 dup\n"},
			in:    "dup", want: 261,
		},
		{
			name:  "the lower bucket wins",
			files: map[string]string{"etc/rt_tables": "6 dup\n5 dup\n"},
			in:    "dup", want: 5,
		},
		{
			name:  "a renamed main table",
			files: map[string]string{"etc/rt_tables": "254 primary\n"},
			in:    "primary", want: 254,
		},
		{
			name:  "entries before a malformed line count",
			files: map[string]string{"etc/rt_tables": "9 before\nbad line\n10 after\n"},
			in:    "before", want: 9,
		},
		{
			name:  "entries after a malformed line do not",
			files: map[string]string{"etc/rt_tables": "9 before\nbad line\n10 after\n"},
			in:    "after", wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			m := &Manager{ConfDir: filepath.Join(dir, "etc"), VendorConfDir: filepath.Join(dir, "usr")}
			got, err := m.TableID(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("TableID(%q) = %d, %v; wantErr %v", tt.in, got, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("TableID(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
