package route

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ReadSysctl returns the value of the sysctl key, such as
// "net.ipv4.conf.all.src_valid_mark", without the trailing newline, as
// "sysctl -n KEY" prints it. Keys are written as sysctl(8) takes them: with
// dots, or with slashes when the first separator is a slash (so that
// "net/ipv4/conf/eth0.100/forwarding" names an interface with a dot).
//
// The file is read below SysctlRoot in the calling thread. /proc/sys/net
// shows the network namespace of the thread that opens it, not the one of
// the Manager: to read a namespace's value, call this on a thread inside it
// (in tests, from within nettest's NetNS.Do).
func (m *Manager) ReadSysctl(key string) (string, error) {
	path, err := m.sysctlPath(key)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading sysctl %s: %w", key, err)
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// WriteSysctl sets the sysctl key to value, as "sysctl -q KEY=VALUE" does:
// one write of the value and a newline to the existing file. Like
// [Manager.ReadSysctl] it acts in the network namespace of the calling
// thread, not the Manager's.
func (m *Manager) WriteSysctl(key, value string) error {
	path, err := m.sysctlPath(key)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("writing sysctl %s: %w", key, err)
	}
	_, err = f.WriteString(value + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

// sysctlPath returns the file of key below the sysctl root.
func (m *Manager) sysctlPath(key string) (string, error) {
	rel, err := sysctlKeyPath(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(m.sysctlRoot(), rel), nil
}

// sysctlKeyPath turns a sysctl key into a relative path the way procps'
// slashdot does: if the first separator is a dot, dots and slashes swap
// places; if it is a slash, the key is a path already. Keys whose path would
// leave the root are rejected.
func sysctlKeyPath(key string) (string, error) {
	path := key
	if i := strings.IndexAny(key, "./"); i >= 0 && key[i] == '.' {
		path = strings.Map(func(r rune) rune {
			switch r {
			case '.':
				return '/'
			case '/':
				return '.'
			}
			return r
		}, key)
	}
	for _, c := range strings.Split(path, "/") {
		if c == "" || c == "." || c == ".." {
			return "", fmt.Errorf("invalid sysctl key %q", key)
		}
	}
	return path, nil
}
