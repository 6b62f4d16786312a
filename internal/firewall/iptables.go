package firewall

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wgtools/wgtools/internal/sysexec"
)

// Iptables installs and removes the rules with iptables-restore and
// ip6tables-restore, the way wg-quick does on a host without nft. It is the
// fallback for kernels without nf_tables, where [NFT] cannot work.
type Iptables struct {
	Exec sysexec.Runner
	// LookPath finds programs (nil: sysexec.LookPath).
	LookPath func(string) (string, bool)
}

func (x *Iptables) lookPath(name string) (string, bool) {
	if x.LookPath != nil {
		return x.LookPath(name)
	}
	return sysexec.LookPath(name)
}

// program returns iptables' or ip6tables' tool named suffix ("-restore",
// "-save") for family 4 or 6.
func program(family int, suffix string) string {
	if family == 6 {
		return "ip6tables" + suffix
	}
	return "iptables" + suffix
}

// Available reports whether iptables-restore and ip6tables-restore are
// installed.
func (x *Iptables) Available() error {
	for _, fam := range []int{4, 6} {
		if _, ok := x.lookPath(program(fam, "-restore")); !ok {
			return fmt.Errorf("%s is not installed", program(fam, "-restore"))
		}
	}
	return nil
}

// run runs name with stdin and returns its standard output; a failure
// carries what it printed on standard error.
func (x *Iptables) run(name string, args []string, stdin string) (string, error) {
	var out, errOut bytes.Buffer
	c := sysexec.Cmd{Name: name, Args: args, Stdout: &out, Stderr: &errOut}
	if stdin != "" {
		c.Stdin = strings.NewReader(stdin)
	}
	if err := x.Exec.Run(context.Background(), c); err != nil {
		if msg := strings.TrimSpace(errOut.String()); msg != "" {
			return "", fmt.Errorf("%w: %s", err, msg)
		}
		return "", err
	}
	return out.String(), nil
}

// Apply installs r's rules with `iptables-restore -n` (or ip6tables-),
// replacing any rules of the interface in that family first, so that, as
// with [NFT.Apply], applying twice leaves one set.
func (x *Iptables) Apply(r Rules) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("applying firewall rules: %w", err)
	}
	if err := x.removeFamily(r.Interface, r.Family); err != nil {
		return err
	}
	if _, err := x.run(program(r.Family, "-restore"), []string{"-n"}, IptablesRestore(r)); err != nil {
		return fmt.Errorf("adding iptables rules for %s: %w", r.Interface, err)
	}
	return nil
}

// Remove deletes every rule tagged for iface in both families, as
// wg-quick's remove_firewall does: from iptables-save's listing, the
// tagged rules turned into deletions and fed to iptables-restore -n. A
// family without such rules, or without the tools, is left alone.
func (x *Iptables) Remove(iface string) error {
	for _, fam := range []int{4, 6} {
		if err := x.removeFamily(iface, fam); err != nil {
			return err
		}
	}
	return nil
}

// Families reports which families hold rules tagged for iface.
func (x *Iptables) Families(iface string) ([]int, error) {
	var fams []int
	for _, fam := range []int{4, 6} {
		_, found, err := x.deletion(iface, fam)
		if err != nil {
			return nil, err
		}
		if found {
			fams = append(fams, fam)
		}
	}
	return fams, nil
}

func (x *Iptables) deletion(iface string, fam int) (string, bool, error) {
	save := program(fam, "-save")
	if _, ok := x.lookPath(save); !ok {
		return "", false, nil
	}
	listing, err := x.run(save, nil, "")
	if err != nil {
		return "", false, fmt.Errorf("listing iptables rules: %w", err)
	}
	restore, found := IptablesDelete(listing, iface)
	return restore, found, nil
}

func (x *Iptables) removeFamily(iface string, fam int) error {
	restore, found, err := x.deletion(iface, fam)
	if err != nil || !found {
		return err
	}
	if _, err := x.run(program(fam, "-restore"), []string{"-n"}, restore); err != nil {
		return fmt.Errorf("deleting iptables rules for %s: %w", iface, err)
	}
	return nil
}

// Backend names.
const (
	BackendNFT      = "nftables"
	BackendIptables = "iptables"
)

// Auto installs the rules natively with nftables when the kernel has
// nf_tables, else with iptables-restore when it is installed, and removes
// them with the backend that installed them.
type Auto struct {
	NFT      *NFT
	Iptables *Iptables
	// Force is "", "nftables" or "iptables" (WG_QUICK_FIREWALL): a
	// backend to use without probing.
	Force string

	backend string
	err     error
	probed  bool
}

// Backend returns the backend Apply uses, probing nftables once.
func (a *Auto) Backend() (string, error) {
	if a.probed {
		return a.backend, a.err
	}
	a.probed = true
	switch a.Force {
	case BackendNFT, BackendIptables:
		a.backend = a.Force
		return a.backend, nil
	case "":
	default:
		a.err = fmt.Errorf("WG_QUICK_FIREWALL=%q: want %q or %q", a.Force, BackendNFT, BackendIptables)
		return "", a.err
	}
	nftErr := a.NFT.Available()
	if nftErr == nil {
		a.backend = BackendNFT
		return a.backend, nil
	}
	if err := a.Iptables.Available(); err != nil {
		a.err = fmt.Errorf("no firewall for the full-tunnel rules: nftables: %v; iptables: %v", nftErr, err)
		return "", a.err
	}
	a.backend = BackendIptables
	return a.backend, nil
}

// Apply installs r with backend ("" is nftables, as for Remove); an
// interface's rules stay with the backend that installed its first ones.
func (a *Auto) Apply(r Rules, backend string) error {
	if backend == BackendIptables {
		return a.Iptables.Apply(r)
	}
	return a.NFT.Apply(r)
}

// Remove deletes iface's rules from backend ("" is nftables: journals
// written before the backend was recorded).
func (a *Auto) Remove(iface, backend string) error {
	if backend == BackendIptables {
		return a.Iptables.Remove(iface)
	}
	return a.NFT.Remove(iface)
}

// ApplyCmd is the command wg-quick prints for installing one family's
// rules with backend.
func ApplyCmd(backend string, family int) string {
	if backend == BackendIptables {
		return program(family, "-restore") + " -n"
	}
	return "nft -f /dev/fd/63"
}

// RemoveCmds are the commands wg-quick prints for removing an interface's
// rules of the given families with backend: one nft run for all, or one
// iptables-restore run per family.
func RemoveCmds(backend string, families []int) []string {
	if backend != BackendIptables {
		return []string{"nft -f /dev/fd/63"}
	}
	// Removal goes family 4 first, as Remove does and wg-quick does,
	// whatever order the families were installed in.
	var cmds []string
	for _, f := range []int{4, 6} {
		if len(families) == 0 || slices.Contains(families, f) {
			cmds = append(cmds, program(f, "-restore")+" -n")
		}
	}
	return cmds
}
