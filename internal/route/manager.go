package route

// Default locations of the files the Manager reads; see the fields of
// [Manager].
const (
	// DefaultConfDir is where ip(8) reads rt_tables and rt_tables.d.
	DefaultConfDir = "/etc/iproute2"
	// DefaultVendorConfDir is the distribution's iproute2 directory, read
	// when DefaultConfDir has no rt_tables (Debian's iproute2 6.x ships its
	// rt_tables there).
	DefaultVendorConfDir = "/usr/share/iproute2"
	// DefaultSysctlRoot is where the kernel exposes sysctls.
	DefaultSysctlRoot = "/proc/sys"
)

// Manager does the rtnetlink work of wg-quick in one network namespace, the
// one it was created in by [New] or [NewAt]; the zero Manager can only
// resolve table names and read and write sysctls. Its methods may be called
// from several goroutines: the netlink handle serializes the requests on
// its socket.
type Manager struct {
	// ConfDir is ip(8)'s configuration directory for table names, "" for
	// DefaultConfDir.
	ConfDir string
	// VendorConfDir is the iproute2 directory of the distribution, "" for
	// DefaultVendorConfDir.
	VendorConfDir string
	// SysctlRoot is the directory holding the sysctl files, "" for
	// DefaultSysctlRoot. Tests point it at a temporary directory.
	SysctlRoot string

	h nlHandle // nil in the zero Manager and once closed
	// indexes remembers link indexes for route requests (routeLinkIndex).
	indexes map[string]int
}

// Close releases the netlink socket. The Manager must not be used for
// netlink requests afterwards.
func (m *Manager) Close() {
	if m.h != nil {
		m.h.Close()
		m.h = nil
	}
}

// confDir returns the configured ConfDir or its default.
func (m *Manager) confDir() string {
	if m.ConfDir != "" {
		return m.ConfDir
	}
	return DefaultConfDir
}

// vendorConfDir returns the configured VendorConfDir or its default.
func (m *Manager) vendorConfDir() string {
	if m.VendorConfDir != "" {
		return m.VendorConfDir
	}
	return DefaultVendorConfDir
}

// sysctlRoot returns the configured SysctlRoot or its default.
func (m *Manager) sysctlRoot() string {
	if m.SysctlRoot != "" {
		return m.SysctlRoot
	}
	return DefaultSysctlRoot
}
