// Package faultinject wraps the system interfaces of wg-quick's
// orchestrator so that the Nth call through them fails (or delivers SIGINT
// to the process), once. The end-to-end tests build wg-quick with the
// faultinject tag, which turns this on from the environment, and run `up`
// in a network namespace once per step, checking after each failure that
// the namespace is exactly as it was before: rollback is proven against
// the real kernel, step by step, not only against a fake.
//
// Every call counts, reads as well as changes, because a read that fails
// after changes were made (the device read after the addresses, the rules
// read before the table search) must roll back just as well. After the
// fault has fired the wrappers pass every call through, so the rollback
// itself runs against the real system.
package faultinject

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/firewall"
	"github.com/wgtools/wgtools/internal/quick"
	"github.com/wgtools/wgtools/internal/route"
	"github.com/wgtools/wgtools/internal/sysexec"
)

// EnvVar selects the fault: "N" makes the Nth call fail, "signal:N"
// sends SIGINT to the process just before the Nth call (which then runs),
// "kill:N" sends it SIGKILL there: the process dies with the call not made.
const EnvVar = "WGTOOLS_FAULT_AT"

// Injector counts calls and fires at one of them.
type Injector struct {
	mu     sync.Mutex
	n      int
	at     int
	signal bool
	kill   bool
	fired  bool
	// Log, if set, is told about the fault when it fires.
	Log func(string)
}

// Parse reads a fault spec as EnvVar holds it.
func Parse(spec string) (*Injector, error) {
	inj := &Injector{}
	if rest, ok := strings.CutPrefix(spec, "signal:"); ok {
		inj.signal = true
		spec = rest
	} else if rest, ok := strings.CutPrefix(spec, "kill:"); ok {
		inj.kill = true
		spec = rest
	}
	at, err := strconv.Atoi(spec)
	if err != nil || at < 1 {
		return nil, fmt.Errorf("%s=%q: want N, signal:N or kill:N with N >= 1", EnvVar, spec)
	}
	inj.at = at
	return inj, nil
}

// step counts one call named by what; it returns the injected error when
// this call is the one to fail.
func (inj *Injector) step(what string, args ...any) error {
	inj.mu.Lock()
	inj.n++
	fire := !inj.fired && inj.n == inj.at
	if fire {
		inj.fired = true
	}
	n := inj.n
	inj.mu.Unlock()
	if !fire {
		return nil
	}
	desc := what
	if len(args) > 0 {
		desc += fmt.Sprint(args...)
	}
	if inj.kill {
		if inj.Log != nil {
			inj.Log(fmt.Sprintf("[fault] SIGKILL before call %d: %s", n, desc))
		}
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL cannot be caught; this goroutine never returns
	}
	if inj.signal {
		if inj.Log != nil {
			inj.Log(fmt.Sprintf("[fault] SIGINT before call %d: %s", n, desc))
		}
		// Wait until the runtime has taken the signal, then give the
		// process's own handler (signal.NotifyContext in main) a moment
		// to cancel its context, so that the interrupt is seen by the
		// next check of up and not by chance some steps later.
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGINT)
		_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
		<-ch
		signal.Stop(ch)
		time.Sleep(50 * time.Millisecond)
		return nil
	}
	if inj.Log != nil {
		inj.Log(fmt.Sprintf("[fault] failing call %d: %s", n, desc))
	}
	return fmt.Errorf("injected fault at call %d: %s", n, desc)
}

// Fired reports whether the fault has happened.
func (inj *Injector) Fired() bool {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	return inj.fired
}

// Calls is how many calls were counted.
func (inj *Injector) Calls() int {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	return inj.n
}

// Wrap puts the injector between q and its Links, Routes, Policy, Device, Firewall,
// Userspace, the command runners of its DNS and hooks, and the system
// calls of its file writes (the journal, a saved configuration).
func (inj *Injector) Wrap(q *quick.Env) {
	q.Links = &links{inj, q.Links}
	q.Routes = &routes{inj, q.Routes}
	q.Policy = &policy{inj, q.Policy}
	q.Device = &dev{inj, q.Device}
	q.Firewall = &fw{inj, q.Firewall}
	q.Userspace = &us{inj, q.Userspace}
	if q.DNS != nil {
		q.DNS.Exec = &runner{inj, q.DNS.Exec}
	}
	if q.Hooks != nil {
		q.Hooks.Exec = &runner{inj, q.Hooks.Exec}
	}
	inner := q.FileStep
	q.FileStep = func(op, path string) error {
		if err := inj.step("file ", op, " ", path); err != nil {
			return err
		}
		if inner != nil {
			return inner(op, path)
		}
		return nil
	}
}

type links struct {
	inj *Injector
	r   quick.Links
}

type routes struct {
	inj *Injector
	r   quick.Routes
}

type policy struct {
	inj *Injector
	r   quick.Policy
}

func (w *links) LinkExists(name string) (bool, error) {
	if err := w.inj.step("LinkExists", name); err != nil {
		return false, err
	}
	return w.r.LinkExists(name)
}

func (w *links) AddWireGuardLink(name string) error {
	if err := w.inj.step("AddWireGuardLink", name); err != nil {
		return err
	}
	return w.r.AddWireGuardLink(name)
}

func (w *links) DeleteLink(name string) error {
	if err := w.inj.step("DeleteLink", name); err != nil {
		return err
	}
	return w.r.DeleteLink(name)
}

func (w *links) AddAddress(name string, p netip.Prefix) error {
	if err := w.inj.step("AddAddress ", name, " ", p); err != nil {
		return err
	}
	return w.r.AddAddress(name, p)
}

func (w *links) DeleteAddress(name string, p netip.Prefix) error {
	if err := w.inj.step("DeleteAddress ", name, " ", p); err != nil {
		return err
	}
	return w.r.DeleteAddress(name, p)
}

func (w *links) Addresses(name string) ([]netip.Prefix, error) {
	if err := w.inj.step("Addresses", name); err != nil {
		return nil, err
	}
	return w.r.Addresses(name)
}

func (w *links) SetMTUUp(name string, mtu int) error {
	if err := w.inj.step("SetMTUUp ", name, " ", mtu); err != nil {
		return err
	}
	return w.r.SetMTUUp(name, mtu)
}

func (w *links) LinkMTU(name string) (int, error) {
	if err := w.inj.step("LinkMTU", name); err != nil {
		return 0, err
	}
	return w.r.LinkMTU(name)
}

func (w *routes) RouteMTU(dst netip.Addr) (int, bool, error) {
	if err := w.inj.step("RouteMTU ", dst); err != nil {
		return 0, false, err
	}
	return w.r.RouteMTU(dst)
}

func (w *routes) DefaultRouteMTU() (int, bool, error) {
	if err := w.inj.step("DefaultRouteMTU"); err != nil {
		return 0, false, err
	}
	return w.r.DefaultRouteMTU()
}

func (w *routes) AddRoute(name string, p netip.Prefix, table int) error {
	if err := w.inj.step("AddRoute ", name, " ", p, " table ", table); err != nil {
		return err
	}
	return w.r.AddRoute(name, p, table)
}

func (w *routes) DeleteRoute(name string, p netip.Prefix, table int) error {
	if err := w.inj.step("DeleteRoute ", name, " ", p, " table ", table); err != nil {
		return err
	}
	return w.r.DeleteRoute(name, p, table)
}

func (w *routes) LinkRoutes(name string) ([]netip.Prefix, error) {
	if err := w.inj.step("LinkRoutes", name); err != nil {
		return nil, err
	}
	return w.r.LinkRoutes(name)
}

func (w *routes) TableEmpty(table int) (bool, error) {
	if err := w.inj.step("TableEmpty ", table); err != nil {
		return false, err
	}
	return w.r.TableEmpty(table)
}

func (w *policy) AddRule(r route.Rule) error {
	if err := w.inj.step("AddRule ", fmt.Sprintf("%+v", r)); err != nil {
		return err
	}
	return w.r.AddRule(r)
}

func (w *policy) DeleteRule(r route.Rule) error {
	if err := w.inj.step("DeleteRule ", fmt.Sprintf("%+v", r)); err != nil {
		return err
	}
	return w.r.DeleteRule(r)
}

func (w *policy) Rules(family int) ([]route.Rule, error) {
	if err := w.inj.step("Rules ", family); err != nil {
		return nil, err
	}
	return w.r.Rules(family)
}

func (w *policy) DefaultRulePriority(family int) (int, error) {
	if err := w.inj.step("DefaultRulePriority ", family); err != nil {
		return 0, err
	}
	return w.r.DefaultRulePriority(family)
}

func (w *routes) TableID(name string) (int, error) {
	if err := w.inj.step("TableID", name); err != nil {
		return 0, err
	}
	return w.r.TableID(name)
}

func (w *policy) ReadSysctl(key string) (string, error) {
	if err := w.inj.step("ReadSysctl", key); err != nil {
		return "", err
	}
	return w.r.ReadSysctl(key)
}

func (w *policy) WriteSysctl(key, value string) error {
	if err := w.inj.step("WriteSysctl ", key, "=", value); err != nil {
		return err
	}
	return w.r.WriteSysctl(key, value)
}

type dev struct {
	inj *Injector
	d   quick.Device
}

func (w *dev) Names() ([]string, error) {
	if err := w.inj.step("Device.Names"); err != nil {
		return nil, err
	}
	return w.d.Names()
}

func (w *dev) Get(name string) (*wgtypes.Device, error) {
	if err := w.inj.step("Device.Get", name); err != nil {
		return nil, err
	}
	return w.d.Get(name)
}

func (w *dev) Configure(name string, cfg wgtypes.Config) error {
	if err := w.inj.step("Device.Configure", name); err != nil {
		return err
	}
	return w.d.Configure(name, cfg)
}

type fw struct {
	inj *Injector
	f   quick.Firewall
}

func (w *fw) Apply(r firewall.Rules, backend string) error {
	if err := w.inj.step("Firewall.Apply ", firewall.TableName(r.Interface), " ipv", r.Family); err != nil {
		return err
	}
	return w.f.Apply(r, backend)
}

func (w *fw) Backend() (string, error) {
	if err := w.inj.step("Firewall.Backend"); err != nil {
		return "", err
	}
	return w.f.Backend()
}

func (w *fw) Remove(iface, backend string) error {
	if err := w.inj.step("Firewall.Remove ", iface, " ", backend); err != nil {
		return err
	}
	return w.f.Remove(iface, backend)
}

type us struct {
	inj *Injector
	u   quick.Userspace
}

func (w *us) Start(ctx context.Context, name string) error {
	if err := w.inj.step("Userspace.Start", name); err != nil {
		return err
	}
	return w.u.Start(ctx, name)
}

func (w *us) Label(name string) string { return w.u.Label(name) }

type runner struct {
	inj *Injector
	r   sysexec.Runner
}

func (w *runner) Run(ctx context.Context, c sysexec.Cmd) error {
	if err := w.inj.step("exec ", c.String()); err != nil {
		return err
	}
	return w.r.Run(ctx, c)
}
