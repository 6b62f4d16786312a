package quick

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/dns"
	"github.com/wgtools/wgtools/internal/firewall"
	"github.com/wgtools/wgtools/internal/hooks"
	"github.com/wgtools/wgtools/internal/route"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Links is the link layer: WireGuard links, their addresses and MTU.
// *route.Manager implements it (rtnetlink).
type Links interface {
	LinkExists(name string) (bool, error)
	AddWireGuardLink(name string) error
	DeleteLink(name string) error
	AddAddress(name string, p netip.Prefix) error
	DeleteAddress(name string, p netip.Prefix) error
	Addresses(name string) ([]netip.Prefix, error)
	SetMTUUp(name string, mtu int) error
	LinkMTU(name string) (int, error)
}

// Routes is routing through a link: routes in the main table or another,
// the tables themselves, and the path MTU up reads.
// *route.Manager implements it (rtnetlink and rt_tables).
type Routes interface {
	RouteMTU(dst netip.Addr) (int, bool, error)
	DefaultRouteMTU() (int, bool, error)
	AddRoute(name string, p netip.Prefix, table int) error
	DeleteRoute(name string, p netip.Prefix, table int) error
	// LinkRoutes lists the main table's routes through a link.
	LinkRoutes(name string) ([]netip.Prefix, error)
	TableEmpty(table int) (bool, error)
	TableID(name string) (int, error)
}

// Policy is what a full tunnel needs beyond routes on Linux: policy rules
// and the src_valid_mark sysctl. *route.Manager implements it.
type Policy interface {
	AddRule(r route.Rule) error
	DeleteRule(r route.Rule) error
	Rules(family int) ([]route.Rule, error)
	DefaultRulePriority(family int) (int, error)
	ReadSysctl(key string) (string, error)
	WriteSysctl(key, value string) error
}

// Router is all three, as one rtnetlink client provides them.
type Router interface {
	Links
	Routes
	Policy
}

// Device is the WireGuard configuration plane; *device.Client implements it.
type Device interface {
	Names() ([]string, error)
	Get(name string) (*wgtypes.Device, error)
	Configure(name string, cfg wgtypes.Config) error
}

// Firewall installs and removes the full-tunnel rules; *firewall.Auto
// implements it.
type Firewall interface {
	// Backend names what Apply uses (firewall.BackendNFT or
	// BackendIptables), or says why there is nothing to use.
	Backend() (string, error)
	// Apply installs r with backend: the one Backend names for new rules,
	// the recorded one for an interface that has rules (a reload run
	// without the WG_QUICK_FIREWALL its up had must not mix backends).
	Apply(r firewall.Rules, backend string) error
	// Remove deletes iface's rules of both families from backend.
	Remove(iface, backend string) error
}

// Userspace starts a userspace WireGuard device for a name; it returns once
// the device's UAPI socket answers. Label is how the `[#]` line shows it.
type Userspace interface {
	Start(ctx context.Context, name string) error
	Label(name string) string
}

// Options are what a command tells NewEnv about the system it runs on.
type Options struct {
	Iface          string
	Stdout, Stderr io.Writer
	// HookEnv is the environment hooks run with.
	HookEnv []string
	// Firewall is "" (probe), "nftables" or "iptables": WG_QUICK_FIREWALL.
	Firewall string
	// Userspace is an external userspace implementation to run for an
	// interface when the kernel has no WireGuard
	// (WG_QUICK_USERSPACE_IMPLEMENTATION); "" is the embedded device.
	Userspace string
	// Self is this program, run as `SELF userspace --foreground IF` for
	// the embedded device.
	Self string
	// Retries is the endpoint resolution retry budget.
	Retries int
}

// Env is everything Up, Down and Save touch.
type Env struct {
	Links     Links
	Routes    Routes
	Policy    Policy
	Device    Device
	Firewall  Firewall
	DNS       *dns.Manager
	Hooks     *hooks.Runner
	Userspace Userspace
	Resolver  config.Resolver
	// Retries is the endpoint resolution retry budget.
	Retries int
	// KernelModule reports whether the wireguard module is present; when it
	// is, a failing link creation is not a reason to go userspace.
	KernelModule func() bool
	StateDir     string
	// WriteState writes a journal file; nil writes it atomically through
	// FileStep. Tests set it to see each write.
	WriteState func(path string, data []byte) error
	// FileStep, if set, is called before each system call of the
	// journal's and the configuration file's writes (fault injection).
	FileStep FileStep
	// ConfigFile is the configuration file the command was given, whose
	// leftover temporary files (from a save that was killed) are removed
	// once the interface's lock is held.
	ConfigFile string
	// ConfigData is ConfigFile's bytes, as parsed for the command (nil:
	// not known). Up and reload mark the journal with them (see
	// filemark.go).
	ConfigData []byte
	// SaveCanonical makes SaveConfig on down write the file as the
	// reference does (WG_QUICK_SAVE=canonical) instead of editing it.
	SaveCanonical bool
	Stderr        io.Writer
	// ConfigWarnings are wg's parse warnings for the file, printed where
	// wg-quick's `wg addconf` would print them.
	ConfigWarnings []string
	// Trace, if set, receives how long each phase of up took (link,
	// device, addresses, mtu, dns, routes, hooks), for benchmarks.
	Trace func(phase string, d time.Duration)
	// Now is the clock Reresolve judges handshakes by; nil is time.Now.
	Now func() time.Time
}

// phase times one phase of up for Trace.
func (e *Env) phase(name string, start *time.Time) {
	if e.Trace != nil {
		now := time.Now()
		e.Trace(name, now.Sub(*start))
		*start = now
	}
}

func (e *Env) logf(format string, args ...any) {
	fmt.Fprintf(e.Stderr, format+"\n", args...)
}

// cmdf prints a `[#]` line, as wg-quick's cmd() does before each action.
func (e *Env) cmdf(format string, args ...any) {
	fmt.Fprintf(e.Stderr, "[#] "+format+"\n", args...)
}

func family(p netip.Prefix) string {
	if p.Addr().Is4() {
		return "-4"
	}
	return "-6"
}

func famFlag(fam int) string {
	if fam == 6 {
		return "-6"
	}
	return "-4"
}

func markText(m uint32) string {
	if m == 0 {
		return "off"
	}
	return strconv.FormatUint(uint64(m), 10)
}

// keyFile is how a wg set line names a key: read from a pipe, or
// /dev/null for none.
func keyFile(k wgtypes.Key) string {
	if k == (wgtypes.Key{}) {
		return "/dev/null"
	}
	return "/dev/fd/63"
}
