package route

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func Test_sysctlKeyPath(t *testing.T) {
	tests := []struct {
		key     string
		want    string
		wantErr bool
	}{
		{key: "net.ipv4.conf.all.src_valid_mark", want: "net/ipv4/conf/all/src_valid_mark"},
		{key: "net/ipv4/conf/all/src_valid_mark", want: "net/ipv4/conf/all/src_valid_mark"},
		{key: "net.ipv4.conf.eth0/100.forwarding", want: "net/ipv4/conf/eth0.100/forwarding"},
		{key: "net/ipv4/conf/eth0.100/forwarding", want: "net/ipv4/conf/eth0.100/forwarding"},
		{key: "kernel", want: "kernel"},
		{key: "", wantErr: true},
		{key: "net..ipv4", wantErr: true},
		{key: "/net/ipv4", wantErr: true},
		{key: "net/../../etc/passwd", wantErr: true},
		{key: "net.ipv4.", wantErr: true},
	}
	for _, tt := range tests {
		got, err := sysctlKeyPath(tt.key)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("sysctlKeyPath(%q) = %q, %v; want %q, error %v", tt.key, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestManagerSysctl(t *testing.T) {
	root := t.TempDir()
	const key = "net.ipv4.conf.all.src_valid_mark"
	path := filepath.Join(root, "net/ipv4/conf/all/src_valid_mark")
	writeFiles(t, root, map[string]string{"net/ipv4/conf/all/src_valid_mark": "0\n"})
	m := &Manager{SysctlRoot: root}

	if got, err := m.ReadSysctl(key); err != nil || got != "0" {
		t.Fatalf("ReadSysctl = %q, %v; want \"0\"", got, err)
	}
	if err := m.WriteSysctl(key, "1"); err != nil {
		t.Fatalf("WriteSysctl: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "1\n" {
		t.Fatalf("file holds %q, %v; want \"1\\n\"", b, err)
	}
	if got, err := m.ReadSysctl(key); err != nil || got != "1" {
		t.Fatalf("ReadSysctl after write = %q, %v; want \"1\"", got, err)
	}

	// Like sysctl(8), writing does not create keys.
	err := m.WriteSysctl("net.ipv4.conf.all.no_such_key", "1")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteSysctl of a missing key = %v, want fs.ErrNotExist", err)
	}
	if _, err := m.ReadSysctl("net.ipv4.conf.all.no_such_key"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadSysctl of a missing key = %v, want fs.ErrNotExist", err)
	}
	if _, err := m.ReadSysctl("net/../../x"); err == nil {
		t.Error("ReadSysctl accepted a key leaving the root")
	}
}
