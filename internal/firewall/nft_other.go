//go:build !linux

package firewall

import (
	"errors"
	"fmt"
)

// errNFT is what NFT's methods return on systems other than Linux.
var errNFT = fmt.Errorf("nftables: %w", errors.ErrUnsupported)

// NFT installs and removes wg-quick's nftables tables; nftables exists only
// on Linux.
type NFT struct{}

// NewNFT returns an error wrapping [errors.ErrUnsupported]: nftables exists
// only on Linux.
func NewNFT(nsFD int) (*NFT, error) { return nil, errNFT }

// Close does nothing.
func (n *NFT) Close() error { return nil }

// Apply returns an error wrapping [errors.ErrUnsupported].
func (n *NFT) Apply(r Rules) error { return errNFT }

// Remove returns an error wrapping [errors.ErrUnsupported].
func (n *NFT) Remove(iface string) error { return errNFT }

// Exists returns an error wrapping [errors.ErrUnsupported].
func (n *NFT) Exists(iface string, family int) (bool, error) { return false, errNFT }

// Available returns an error wrapping [errors.ErrUnsupported].
func (n *NFT) Available() error { return errNFT }
