package config

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"
	"sync"
)

// ServiceLookup maps a UDP service name (or alias) to its port, as
// getservbyname(3) does with /etc/services. Tests inject a map.
type ServiceLookup func(name string) (uint16, bool)

var systemServices = sync.OnceValue(func() map[string]uint16 {
	f, err := os.Open("/etc/services")
	if err != nil {
		return nil
	}
	defer f.Close()
	return ReadServices(f)
})

// SystemServices looks a UDP service up in /etc/services, read once.
// Matching is case-sensitive, like glibc's files backend.
func SystemServices(name string) (uint16, bool) {
	p, ok := systemServices()[name]
	return p, ok
}

// ReadServices parses services(5) text and returns the UDP entries, names
// and aliases alike. The first entry for a name wins, as in a linear scan.
func ReadServices(r io.Reader) map[string]uint16 {
	m := make(map[string]uint16)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Bytes()
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(string(line))
		if len(f) < 2 {
			continue
		}
		num, proto, ok := strings.Cut(f[1], "/")
		if !ok || proto != "udp" {
			continue
		}
		p, ok := decimal(num, 65535)
		if !ok {
			continue
		}
		for _, name := range append(f[:1:1], f[2:]...) {
			if _, seen := m[name]; !seen {
				m[name] = uint16(p)
			}
		}
	}
	return m
}
