//go:build !linux

package route

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netns"
)

// nlHandle stands in for the netlink handle, which exists only on Linux.
type nlHandle interface{ Close() }

// errUnsupported is what every netlink operation returns off Linux.
var errUnsupported = fmt.Errorf("rtnetlink: %w", errors.ErrUnsupported)

// New returns an error wrapping errors.ErrUnsupported: rtnetlink is Linux
// only.
func New() (*Manager, error) { return nil, errUnsupported }

// NewAt returns an error wrapping errors.ErrUnsupported: rtnetlink is Linux
// only.
func NewAt(ns netns.NsHandle) (*Manager, error) { return nil, errUnsupported }

// LinkExists returns an error wrapping errors.ErrUnsupported.
func (m *Manager) LinkExists(name string) (bool, error) { return false, errUnsupported }

// AddWireGuardLink returns an error wrapping errors.ErrUnsupported.
func (m *Manager) AddWireGuardLink(name string) error { return errUnsupported }

// DeleteLink returns an error wrapping errors.ErrUnsupported.
func (m *Manager) DeleteLink(name string) error { return errUnsupported }

// SetMTUUp returns an error wrapping errors.ErrUnsupported.
func (m *Manager) SetMTUUp(name string, mtu int) error { return errUnsupported }

// LinkMTU returns an error wrapping errors.ErrUnsupported.
func (m *Manager) LinkMTU(name string) (int, error) { return 0, errUnsupported }

// LinkIndex returns an error wrapping errors.ErrUnsupported.
func (m *Manager) LinkIndex(name string) (int, error) { return 0, errUnsupported }

// AddAddress returns an error wrapping errors.ErrUnsupported.
func (m *Manager) AddAddress(name string, p netip.Prefix) error { return errUnsupported }

// Addresses returns an error wrapping errors.ErrUnsupported.
func (m *Manager) Addresses(name string) ([]netip.Prefix, error) { return nil, errUnsupported }

// DeleteAddress returns an error wrapping errors.ErrUnsupported.
func (m *Manager) DeleteAddress(name string, p netip.Prefix) error { return errUnsupported }

// LinkRoutes returns an error wrapping errors.ErrUnsupported.
func (m *Manager) LinkRoutes(name string) ([]netip.Prefix, error) { return nil, errUnsupported }

// AddRoute returns an error wrapping errors.ErrUnsupported.
func (m *Manager) AddRoute(name string, p netip.Prefix, table int) error { return errUnsupported }

// DeleteRoute returns an error wrapping errors.ErrUnsupported.
func (m *Manager) DeleteRoute(name string, p netip.Prefix, table int) error { return errUnsupported }

// TableEmpty returns an error wrapping errors.ErrUnsupported.
func (m *Manager) TableEmpty(table int) (bool, error) { return false, errUnsupported }

// RouteMTU returns an error wrapping errors.ErrUnsupported.
func (m *Manager) RouteMTU(dst netip.Addr) (mtu int, ok bool, err error) {
	return 0, false, errUnsupported
}

// DefaultRouteMTU returns an error wrapping errors.ErrUnsupported.
func (m *Manager) DefaultRouteMTU() (int, bool, error) { return 0, false, errUnsupported }

// AddRule returns an error wrapping errors.ErrUnsupported.
func (m *Manager) AddRule(r Rule) error { return errUnsupported }

// DeleteRule returns an error wrapping errors.ErrUnsupported.
func (m *Manager) DeleteRule(r Rule) error { return errUnsupported }

// Rules returns an error wrapping errors.ErrUnsupported.
func (m *Manager) Rules(family int) ([]Rule, error) { return nil, errUnsupported }

// DefaultRulePriority is unsupported off Linux.
func (m *Manager) DefaultRulePriority(family int) (int, error) { return 0, errUnsupported }
