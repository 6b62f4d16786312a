package quick

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
)

// SaveOptions choose how save writes the file.
type SaveOptions struct {
	// Canonical writes the file as the reference wg-quick writes it,
	// from scratch, instead of editing it in place.
	Canonical bool
	// DryRun writes nothing and prints to Out the unified diff the save
	// would make (secrets hidden).
	DryRun bool
	Out    io.Writer
	// Force saves over a file edited since it was last applied or saved.
	Force bool
}

// ErrEditedSince is the error of a save that would write over an edit
// made to the file since it was last applied or saved.
var ErrEditedSince = errors.New("changed since it was last applied or saved")

// Save writes a running interface's configuration to file, as `wg-quick
// save` does, holding the interface's lock: a reload or down meanwhile
// waits, and so cannot have the file describe half of it.
//
// Unless opts.Canonical, the file is edited in place (config.Edit): only
// what differs on the interface changes, and a file that already
// describes it is not written at all. A file edited since up, reload or
// the last save is not written over unless opts.Force.
func (e *Env) Save(ctx context.Context, iface string, cfg *config.Config, file string, opts SaveOptions) error {
	unlock, err := e.lockExisting(ctx, iface)
	if err != nil {
		return err
	}
	defer unlock()
	j, err := e.loadJournal(iface)
	if err != nil {
		return err
	}
	return e.save(ctx, iface, cfg, file, j, opts)
}

func (e *Env) save(ctx context.Context, iface string, cfg *config.Config, file string, j *Journal, opts SaveOptions) error {
	// Read again under the lock (the file may have changed since it was
	// parsed), as bounded as every configuration read.
	data, err := config.ReadFile(file)
	if err != nil {
		return err
	}
	if edited, diff := j.editedSince(file, data); edited && !opts.Force {
		if !opts.DryRun {
			return fmt.Errorf("%s %w:\n%snot saved; `wg-quick save --force %s' saves over the edit", config.QuotePath(file), ErrEditedSince, diff, iface)
		}
		fmt.Fprintf(e.Stderr, "Warning: %s %v (save would refuse without --force):\n%s", config.QuotePath(file), ErrEditedSince, diff)
	}
	var text []byte
	if opts.Canonical {
		text, err = e.SaveText(ctx, iface, cfg)
	} else {
		text, err = e.editText(ctx, iface, file, data, j)
	}
	if err != nil {
		return err
	}
	if opts.DryRun {
		_, err := io.WriteString(opts.Out, unifiedDiff(file, file, config.RedactSecrets(data), config.RedactSecrets(text)))
		return err
	}
	// The journal is marked only when it describes a finished up: a save
	// run by a hook of an up or down in progress leaves its journal to it.
	textMark := fileMark(text)
	mark := j != nil && j.Complete && j.File != textMark
	if !bytes.Equal(text, data) {
		// Two-phase, so that a save killed at any point is finished by the
		// next one: the mark of the text being written is recorded first
		// (the file may then be old or new), the file written, then the
		// mark moved.
		if mark {
			j.FileNext = textMark
			if err := j.save(); err != nil {
				return fmt.Errorf("saving state: %w", err)
			}
		}
		if err := e.WriteConfig(file, text); err != nil {
			return err
		}
	}
	if !mark {
		return nil
	}
	if err := j.markFile(text); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	if err := j.save(); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

// live reads what the system holds for a running interface, in the form
// of a configuration: the device's keys, port, fwmark and peers; the
// link's addresses and, when withMTU, its MTU; the DNS servers in force.
func (e *Env) live(ctx context.Context, iface string, withMTU bool) (*config.Config, error) {
	d, err := e.Device.Get(iface)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", iface, device.Wrap(err))
	}
	live := device.Config(d)
	ifc := &live.Interface
	if ifc.Addresses, err = e.Links.Addresses(iface); err != nil {
		return nil, err
	}
	ifc.DNS = e.DNS.Servers(ctx, iface)
	if withMTU {
		if ifc.MTU, err = e.Links.LinkMTU(iface); err != nil {
			return nil, err
		}
	}
	e.cmdf("wg showconf %s", iface)
	return live, nil
}

// editText is the file edited in place to describe the interface.
func (e *Env) editText(ctx context.Context, iface, file string, data []byte, j *Journal) ([]byte, error) {
	live, err := e.live(ctx, iface, true)
	if err != nil {
		return nil, err
	}
	opts := config.EditOptions{File: file}
	if j != nil && j.Applied != nil && j.Applied.FwMark == nil {
		opts.AutoFwMark = j.Applied.Mark
	}
	text, err := config.Edit(data, live, opts)
	if err != nil {
		return nil, fmt.Errorf("editing the file in place: %w (`wg-quick save --canonical %s' writes it afresh)", err, iface)
	}
	return text, nil
}

// SaveText builds the text the reference `wg-quick save` writes for a
// running interface: the file's [Interface] settings whole, with what the
// system holds in their place where it holds them (the device's keys,
// port, fwmark and peers; the link's addresses and, when MTU was given,
// its MTU; the DNS servers in force). A key added to config.Interface is
// saved without an edit here unless the system holds it.
func (e *Env) SaveText(ctx context.Context, iface string, cfg *config.Config) ([]byte, error) {
	live, err := e.live(ctx, iface, cfg.Interface.MTU != 0)
	if err != nil {
		return nil, err
	}
	ifc := cfg.Interface
	li := &live.Interface
	ifc.PrivateKey, ifc.ListenPort, ifc.FwMark = li.PrivateKey, li.ListenPort, li.FwMark
	ifc.Addresses, ifc.AddressText, ifc.DNS = li.Addresses, nil, li.DNS
	if ifc.MTU != 0 {
		ifc.MTU = li.MTU
	}
	live.Interface = ifc
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
