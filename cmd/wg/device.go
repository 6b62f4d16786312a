package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/device"
)

// client opens the device client on first use: genkey and friends never
// need it.
func (e *env) client() (*device.Client, error) {
	if e.dev == nil {
		c, err := device.New()
		if err != nil {
			return nil, err
		}
		e.dev = c
	}
	return e.dev, nil
}

// get reads a device, with wg's wording on failure.
func (e *env) get(name string) (*wgtypes.Device, error) {
	c, err := e.client()
	if err == nil {
		var d *wgtypes.Device
		if d, err = c.Get(name); err == nil {
			return d, nil
		}
	}
	return nil, fmt.Errorf("Unable to access interface: %s", device.Strerror(err))
}

// modifyError is wg's message for a request that failed. A removal of one
// allowed IP (upstream's -ADDR) that the device cannot take gets a second
// line saying so: on a kernel device the errno alone ("Operation not
// supported") does not tell what to change.
func modifyError(err error) error {
	msg := "Unable to modify interface: " + device.Strerror(err)
	if errors.Is(err, device.ErrRemoveAllowedIP) {
		msg += "\n(removing a single allowed IP with -ADDR needs a userspace device; nothing was changed)"
	}
	return errors.New(msg)
}

// apply sends a request, with wg's wording on failure.
func (e *env) apply(name string, req device.Request) error {
	c, err := e.client()
	if err == nil {
		err = c.Apply(name, req)
	}
	if err != nil {
		return modifyError(err)
	}
	return nil
}

// resolve resolves endpoint host names with wg's retry schedule, read from
// WG_ENDPOINT_RESOLUTION_RETRIES. As in wg, a bad value of that variable
// ends the program at once, but only once an endpoint needs it.
func (e *env) resolve(ctx context.Context, c *config.Config) error {
	need := false
	for _, p := range c.Peers {
		need = need || p.Endpoint != nil
	}
	if !need {
		return nil
	}
	v, set := os.LookupEnv("WG_ENDPOINT_RESOLUTION_RETRIES")
	retries, err := config.ParseRetries(v, set)
	if err != nil {
		return err
	}
	return config.ResolveEndpoints(ctx, c, net.DefaultResolver, config.Retry{
		Retries: retries,
		Logf:    func(f string, a ...any) { fmt.Fprintf(e.stderr, f+"\n", a...) },
	})
}
