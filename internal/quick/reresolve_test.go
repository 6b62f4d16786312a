package quick

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// TestReresolve runs one reresolve over peers in every situation: only a
// peer with a host name, a stale (or no) handshake and a changed address
// gets a new endpoint, and nothing else of it.
func TestReresolve(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	peers := []struct {
		name     string
		endpoint string
		age      time.Duration // since the latest handshake; 0: never
		moved    bool          // the name resolves elsewhere now
		want     string        // the new endpoint, "" for none
	}{
		{name: "stale, moved", endpoint: "a.example.com:51820", age: 10 * time.Minute, moved: true, want: "198.51.100.101:51820"},
		{name: "never, moved", endpoint: "b.example.com:51821", moved: true, want: "198.51.100.102:51821"},
		{name: "just stale, moved", endpoint: "c.example.com:51820", age: StaleHandshake + time.Second, moved: true, want: "198.51.100.103:51820"},
		{name: "fresh, moved", endpoint: "d.example.com:51820", age: StaleHandshake, moved: true},
		{name: "stale, same address", endpoint: "e.example.com:51820", age: time.Hour},
		{name: "stale, IP literal", endpoint: "192.0.2.6:51820", age: time.Hour},
		{name: "stale, IPv6 literal", endpoint: "[2001:db8::7]:51820", age: time.Hour},
		{name: "stale, no endpoint", age: time.Hour},
	}
	names := fakeResolver{}
	var text strings.Builder
	text.WriteString("[Interface]\nPrivateKey = " + testKey(1).String() + "\n")
	for i, p := range peers {
		fmt.Fprintf(&text, "\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.0.0/16\n", testKey(byte(100+i)), i)
		if p.endpoint != "" {
			fmt.Fprintf(&text, "Endpoint = %s\n", p.endpoint)
			host, _, _ := strings.Cut(p.endpoint, ":")
			names[host] = []netip.Addr{netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)})}
		}
	}
	r := newReloadEnv(t)
	r.Resolver = names
	r.Now = func() time.Time { return now }
	cfg := text.String()
	r.up(t, cfg)
	d := r.f.devices["wg0"]
	for i, p := range peers {
		if p.age != 0 {
			d.Peers[i].LastHandshakeTime = now.Add(-p.age)
		}
		if p.moved {
			host, _, _ := strings.Cut(p.endpoint, ":")
			names[host] = []netip.Addr{netip.AddrFrom4([4]byte{198, 51, 100, byte(101 + i)})}
		}
	}
	before := r.state(true)
	r.f.configs = nil
	r.stderr.Reset()

	if err := r.Reresolve(context.Background(), "wg0", parse(t, cfg)); err != nil {
		t.Fatalf("reresolve: %v\n%s", err, r.stderr)
	}
	var want strings.Builder
	var wantConfigs []string
	wantState := before
	for i, p := range peers {
		if p.want == "" {
			continue
		}
		fmt.Fprintf(&want, "[#] wg set wg0 peer %s endpoint %s\n", testKey(byte(100+i)), p.want)
		wantConfigs = append(wantConfigs, fmt.Sprintf("%s update_only endpoint %s", testKey(byte(100+i)), p.want))
		wantState = strings.Replace(wantState, fmt.Sprintf("endpoint 198.51.100.%d:", i+1), fmt.Sprintf("endpoint 198.51.100.%d:", 101+i), 1)
	}
	if diff := cmp.Diff(want.String(), r.stderr.String()); diff != "" {
		t.Errorf("reresolve printed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantConfigs, endpointUpdates(r.f.configs)); diff != "" {
		t.Errorf("reresolve sent (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantState, r.state(true)); diff != "" {
		t.Errorf("state after reresolve (-want +got):\n%s", diff)
	}

	// A second run finds the endpoints current.
	r.stderr.Reset()
	if err := r.Reresolve(context.Background(), "wg0", parse(t, cfg)); err != nil || r.stderr.Len() > 0 {
		t.Errorf("second reresolve: %v\n%s", err, r.stderr)
	}
}

// endpointUpdates renders requests that may only update endpoints; anything
// else in them shows.
func endpointUpdates(cs []wgtypes.Config) []string {
	var out []string
	for _, c := range cs {
		if c.PrivateKey != nil || c.ListenPort != nil || c.FirewallMark != nil || c.ReplacePeers || len(c.Peers) != 1 {
			out = append(out, fmt.Sprintf("unexpected %+v", c))
			continue
		}
		p := c.Peers[0]
		s := p.PublicKey.String()
		if p.UpdateOnly {
			s += " update_only"
		}
		if p.Endpoint != nil {
			s += " endpoint " + p.Endpoint.String()
		}
		if p.Remove || p.PresharedKey != nil || p.PersistentKeepaliveInterval != nil || p.ReplaceAllowedIPs || len(p.AllowedIPs) > 0 {
			s += fmt.Sprintf(" unexpected %+v", p)
		}
		out = append(out, s)
	}
	return out
}

// TestReresolveErrors: a name that no longer resolves is reported after
// the other peers were handled; a peer the device lacks is skipped; an
// interface that is not up is refused.
func TestReresolveErrors(t *testing.T) {
	cfg := testKeys.Replace(reloadBase + "\n[Peer]\nPublicKey = <C>\nEndpoint = other.example.com:51820\nAllowedIPs = 10.4.0.0/16\n")
	r := newReloadEnv(t)
	if err := r.Reresolve(context.Background(), "wg0", parse(t, cfg)); err == nil || !strings.Contains(err.Error(), "`wg0' is not a WireGuard interface") {
		t.Errorf("reresolve of a missing interface: %v", err)
	}
	r.up(t, cfg)
	// B's name is gone; C was removed from the device by hand and moved.
	r.Resolver = fakeResolver{"other.example.com": {netip.MustParseAddr("198.51.100.99")}}
	d := r.f.devices["wg0"]
	d.Peers = d.Peers[:2]
	r.stderr.Reset()
	r.f.configs = nil
	err := r.Reresolve(context.Background(), "wg0", parse(t, cfg))
	if err == nil || !strings.Contains(err.Error(), "Name or service not known: `vpn.example.com:51820'") {
		t.Errorf("err = %v, want B's name failing", err)
	}
	if len(r.f.configs) != 0 || r.stderr.Len() != 0 {
		t.Errorf("reresolve changed something: %v\n%s", r.f.configs, r.stderr)
	}
}
