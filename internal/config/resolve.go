package config

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"time"
)

// Resolver looks up host names; *net.Resolver satisfies it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DefaultRetries is how many times wg retries a transient resolution
// failure when WG_ENDPOINT_RESOLUTION_RETRIES is unset.
const DefaultRetries = 15

// ParseRetries interprets WG_ENDPOINT_RESOLUTION_RETRIES as wg does:
// unset is 15, `infinity` is -1 (no limit), otherwise an unsigned decimal no
// larger than INT_MAX read like strtoul (leading blanks and a sign allowed,
// an empty string is 0).
func ParseRetries(value string, set bool) (int, error) {
	if !set {
		return DefaultRetries, nil
	}
	if value == "infinity" {
		return -1, nil
	}
	// With no digits strtoul's end points at the start, so anything but an
	// empty string without digits fails the "fully consumed" test.
	v, rest := strtoul(value)
	if rest != "" || v > math.MaxInt32 {
		return 0, errors.New("Unable to parse WG_ENDPOINT_RESOLUTION_RETRIES: " + quote(value))
	}
	return int(v), nil
}

// Retry is the schedule for transient resolution failures.
type Retry struct {
	// Retries is the number of retries after the first attempt; -1 retries
	// forever.
	Retries int
	// Sleep waits; nil means time.Sleep honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logf receives wg's "Trying again in S.SS seconds..." lines.
	Logf func(format string, args ...any)
}

// retryDelay is wg's schedule: 1 s, then times 6/5 in whole microseconds,
// at most 20 s.
func retryDelay(prev time.Duration) time.Duration {
	if prev == 0 {
		return time.Second
	}
	us := prev.Microseconds() * 6 / 5
	return min(time.Duration(us)*time.Microsecond, 20*time.Second)
}

// ResolveEndpoints resolves every peer endpoint given by name, in place,
// taking the first address the resolver returns. A name that does not exist
// fails at once; any other failure is retried on wg's schedule. Errors use
// wg's wording, `<reason>: `host:port'`.
func ResolveEndpoints(ctx context.Context, c *Config, r Resolver, retry Retry) error {
	for i := range c.Peers {
		e := c.Peers[i].Endpoint
		if e == nil || e.Addr.IsValid() {
			continue
		}
		addr, err := resolveHost(ctx, e, r, retry)
		if err != nil {
			return fmt.Errorf("peer at line %d: %w", c.Peers[i].Line, err)
		}
		e.Addr = addr
	}
	return nil
}

func resolveHost(ctx context.Context, e *Endpoint, r Resolver, retry Retry) (netip.Addr, error) {
	value := joinHostPort(e.Host, e.Port)
	if retry.Sleep == nil {
		retry.Sleep = sleepCtx
	}
	left := retry.Retries
	var delay time.Duration
	for {
		addrs, err := r.LookupNetIP(ctx, "ip", e.Host)
		if err == nil && len(addrs) > 0 {
			return addrs[0].Unmap(), nil
		}
		reason := "Name or service not known"
		var dnsErr *net.DNSError
		permanent := err == nil || (errors.As(err, &dnsErr) && dnsErr.IsNotFound)
		if !permanent {
			reason = "Temporary failure in name resolution"
		}
		if permanent || left == 0 || ctx.Err() != nil {
			return netip.Addr{}, errors.New(reason + ": " + quote(value))
		}
		if left > 0 {
			left--
		}
		delay = retryDelay(delay)
		if retry.Logf != nil {
			retry.Logf("%s: %s. Trying again in %.2f seconds...", reason, quote(value), delay.Seconds())
		}
		if err := retry.Sleep(ctx, delay); err != nil {
			return netip.Addr{}, err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
