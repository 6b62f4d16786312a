// Package device is the WireGuard configuration plane: it lists, reads and
// configures WireGuard devices, kernel or userspace (UAPI socket) alike,
// through wgctrl. It never creates or deletes links, just as wg(8) never
// does, so that `wg` needs neither rtnetlink nor the userspace device.
//
// Errors carry the errno wg would report, so that the command line can print
// wg's texts (`Unable to access interface: No such device`).
package device

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/wgtools/wgtools/internal/config"
	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// RunDir is where userspace implementations put their UAPI sockets.
const RunDir = "/var/run/wireguard"

// MaxNameLen is the longest interface name Linux accepts (IFNAMSIZ - 1).
const MaxNameLen = config.MaxInterfaceName

// Client reads and configures WireGuard devices.
type Client struct {
	wg     *wgctrl.Client
	runDir string
	sysNet string
	// kernel reports whether the kernel has WireGuard (its generic netlink
	// family); without it every non-userspace name is "Protocol not
	// supported", as wg reports.
	kernel func() bool
}

// New returns a client for the running system. Nothing is opened until a
// device is read or configured.
func New() (*Client, error) {
	return &Client{runDir: RunDir, sysNet: "/sys/class/net", kernel: kernelWireGuard}, nil
}

// Close releases the client.
func (c *Client) Close() error {
	if c.wg != nil {
		return c.wg.Close()
	}
	return nil
}

// kernelClient opens wgctrl on first use: only kernel devices need it, and
// opening it costs a generic netlink family lookup on every run.
func (c *Client) kernelClient() (*wgctrl.Client, error) {
	if c.wg == nil {
		wg, err := wgctrl.New()
		if err != nil {
			return nil, fmt.Errorf("opening wgctrl: %w", err)
		}
		c.wg = wg
	}
	return c.wg, nil
}

// kernelWireGuard reports whether the WireGuard module is loaded or built in.
func kernelWireGuard() bool {
	_, err := os.Stat("/sys/module/wireguard")
	return err == nil
}

// Names lists WireGuard interfaces as wg does: kernel links first, in
// ifindex order, then userspace sockets in directory order (unsorted, as
// readdir returns them). A socket whose daemon is gone (connection refused)
// is removed, as wg does.
func (c *Client) Names() ([]string, error) {
	names, err := c.kernelNames()
	if err != nil {
		return nil, err
	}
	d, err := os.Open(c.runDir)
	if errors.Is(err, fs.ErrNotExist) {
		return names, nil
	} else if err != nil {
		return nil, err
	}
	defer d.Close()
	entries, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e, ".sock")
		if !ok || name == "" {
			continue
		}
		if c.userspaceLive(name) {
			names = append(names, name)
		}
	}
	return names, nil
}

// kernelNames finds links whose driver is WireGuard through sysfs, where a
// WireGuard link reports DEVTYPE=wireguard in its uevent.
func (c *Client) kernelNames() ([]string, error) {
	entries, err := os.ReadDir(c.sysNet)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	type link struct {
		name  string
		index int
	}
	var links []link
	for _, e := range entries {
		uevent, err := os.ReadFile(filepath.Join(c.sysNet, e.Name(), "uevent"))
		if err != nil || !strings.Contains(string(uevent), "DEVTYPE=wireguard\n") {
			continue
		}
		idx, _ := os.ReadFile(filepath.Join(c.sysNet, e.Name(), "ifindex"))
		n, _ := strconv.Atoi(strings.TrimSpace(string(idx)))
		links = append(links, link{e.Name(), n})
	}
	sort.Slice(links, func(i, j int) bool { return links[i].index < links[j].index })
	names := make([]string, len(links))
	for i, l := range links {
		names[i] = l.name
	}
	return names, nil
}

// userspaceLive reports whether NAME.sock is a socket something listens on.
// A refused connection means the daemon died: the stale socket is removed.
// Any other failure (permission) still counts as an interface, as in wg.
func (c *Client) userspaceLive(name string) bool {
	path, ok := c.socketFile(name)
	if !ok {
		return false
	}
	conn, err := net.Dial("unix", path)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			os.Remove(path)
			return false
		}
		return true
	}
	conn.Close()
	return true
}

// Get reads one device: over its UAPI socket when one is live (a socket
// whose daemon is gone is removed, as wg does), otherwise from the kernel.
func (c *Client) Get(name string) (*wgtypes.Device, error) {
	if path, ok := c.socketFile(name); ok {
		d, err := uapiGet(path, name)
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, c.mapErr(err)
		}
		os.Remove(path)
	}
	if err := c.kernelCheck(name); err != nil {
		return nil, err
	}
	wg, err := c.kernelClient()
	if err != nil {
		return nil, err
	}
	d, err := wg.Device(name)
	if err != nil {
		return nil, c.mapErr(err)
	}
	if err := kernelZones(d); err != nil {
		return nil, c.mapErr(err)
	}
	return d, nil
}

// Configure sends one configuration request.
func (c *Client) Configure(name string, cfg wgtypes.Config) error {
	return c.Apply(name, Request{Config: cfg})
}

// Apply sends one request, with its single allowed-IP removals when the
// device is a userspace one; a kernel device gets ErrRemoveAllowedIP for
// those, as wgctrl cannot say them yet.
func (c *Client) Apply(name string, req Request) error {
	cfg := req.Config
	if path, ok := c.socketFile(name); ok {
		err := uapiSet(path, cfg, req.Remove)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return c.mapErr(err)
		}
		os.Remove(path)
	}
	if err := c.kernelCheck(name); err != nil {
		return err
	}
	if len(req.Remove) > 0 {
		return ErrRemoveAllowedIP
	}
	wg, err := c.kernelClient()
	if err != nil {
		return err
	}
	for _, part := range deviceAttrsOnce(cfg) {
		if err := wg.ConfigureDevice(name, part); err != nil {
			return c.mapErr(err)
		}
	}
	if err := setKernelScopes(name, cfg); err != nil {
		return c.mapErr(err)
	}
	return nil
}

// deviceAttrsOnce splits a kernel request in two: the device's own fields
// (private key, listen port, fwmark, replace-peers) with the first peer,
// then the other peers alone. wgctrl sends a large request as one netlink
// message per peer, each repeating the device's fields, and the kernel
// answers a fwmark by walking every peer it has: a setconf of 10,000 peers
// with FwMark was quadratic (in the VM 28.8 s against wg's 3.6 s; syncconf
// 61.5 s against 0.5 s). wg sends the device's fields in its first message
// only; so do we now.
func deviceAttrsOnce(cfg wgtypes.Config) []wgtypes.Config {
	if len(cfg.Peers) <= 1 {
		return []wgtypes.Config{cfg}
	}
	first := cfg
	first.Peers = cfg.Peers[:1]
	rest := wgtypes.Config{Peers: cfg.Peers[1:]}
	return []wgtypes.Config{first, rest}
}

// socketFile returns the UAPI socket path of name if such a socket exists.
// Names with a slash are never userspace, as in wg.
func (c *Client) socketFile(name string) (string, bool) {
	if strings.Contains(name, "/") {
		return "", false
	}
	path := c.socket(name)
	st, err := os.Stat(path)
	return path, err == nil && st.Mode()&fs.ModeSocket != 0
}

func (c *Client) socket(name string) string { return filepath.Join(c.runDir, name+".sock") }

// kernelCheck refuses what wg's kernel path refuses before any IPC: a name
// the kernel could not hold (upstream wg reports it as ENAMETOOLONG), and
// everything when the kernel has no WireGuard (wg then fails to find the
// generic netlink family: EPROTONOSUPPORT).
func (c *Client) kernelCheck(name string) error {
	if len(name) > MaxNameLen {
		return syscall.ENAMETOOLONG
	}
	if !c.kernel() {
		return syscall.EPROTONOSUPPORT
	}
	return nil
}

// mapErr turns wgctrl's errors into the errno wg would have reported.
func (c *Client) mapErr(err error) error {
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		return errno
	case errors.Is(err, os.ErrNotExist):
		return syscall.ENODEV
	}
	// wgctrl reports a UAPI errno as "wguser: errno=N".
	if _, after, ok := strings.Cut(err.Error(), "errno="); ok {
		if n, convErr := strconv.Atoi(strings.TrimSpace(after)); convErr == nil {
			return syscall.Errno(n)
		}
	}
	return fmt.Errorf("%w: %v", syscall.EPROTO, err)
}

// Error is a device error that prints as wg prints it (see Strerror) and
// keeps its cause for errors.Is and errors.As.
type Error struct{ Err error }

func (e *Error) Error() string { return Strerror(e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Wrap returns err as an *Error; nil stays nil.
func Wrap(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err}
}

// Strerror renders an error as glibc's strerror would, which is how wg
// prints errno values: Go's texts are glibc's with a lowercase first letter.
func Strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}
