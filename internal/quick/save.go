package quick

import (
	"context"
	"errors"
	"fmt"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
)

// Save writes a running interface's configuration to file, as `wg-quick
// save` does, holding the interface's lock: a reload or down meanwhile
// waits, and so cannot have the file describe half of it.
func (e *Env) Save(ctx context.Context, iface string, cfg *config.Config, file string) error {
	unlock, err := e.lockExisting(ctx, iface)
	if err != nil {
		return err
	}
	defer unlock()
	return e.save(ctx, iface, cfg, file)
}

func (e *Env) save(ctx context.Context, iface string, cfg *config.Config, file string) error {
	text, err := e.SaveText(ctx, iface, cfg)
	if err != nil {
		return err
	}
	return e.WriteConfig(file, text)
}

// SaveText builds the text `wg-quick save` writes for a running interface:
// the file's [Interface] settings whole, with what the system holds in
// their place where it holds them (the device's keys, port, fwmark and
// peers; the link's addresses and, when MTU was given, its MTU; the DNS
// servers in force). A key added to config.Interface is saved without an
// edit here unless the system holds it.
func (e *Env) SaveText(ctx context.Context, iface string, cfg *config.Config) ([]byte, error) {
	d, err := e.Device.Get(iface)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", iface, device.Wrap(err))
	}
	live := device.Config(d)
	ifc := cfg.Interface
	ifc.PrivateKey, ifc.ListenPort, ifc.FwMark = live.Interface.PrivateKey, live.Interface.ListenPort, live.Interface.FwMark
	if ifc.Addresses, err = e.Links.Addresses(iface); err != nil {
		return nil, err
	}
	ifc.AddressText = nil
	ifc.DNS = e.DNS.Servers(ctx, iface)
	if ifc.MTU != 0 {
		if ifc.MTU, err = e.Links.LinkMTU(iface); err != nil {
			return nil, err
		}
	}
	live.Interface = ifc
	e.cmdf("wg showconf %s", iface)
	return config.Save(live), nil
}

// WriteConfig replaces the configuration file atomically with mode 0600: a
// crash at any point leaves the old file or the new one (and a temporary
// file, which the next write removes).
func (e *Env) WriteConfig(path string, data []byte) error {
	if err := writeFileAtomic(path, data, 0o600, true, e.FileStep); err != nil {
		return errors.New("Could not write configuration file")
	}
	return nil
}
