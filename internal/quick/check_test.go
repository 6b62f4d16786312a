package quick

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestCheckFirewall: a full tunnel with Table auto needs a firewall; when
// there is none, check reports up's error at the first peer routing
// everything. Split tunnels, Table = off and an unknown answer (nil, as
// without root) say nothing.
func TestCheckFirewall(t *testing.T) {
	none := func() error { return errors.New("no firewall for the full-tunnel rules") }
	const key = "PrivateKey = eGvwC0w/iSf++8d3zGyAxieGhkOVC6HS9CM+5ht1kns=\n"
	const peer = "[Peer]\nPublicKey = rH88fXnB0eX4gld6mGOlPI0uEQWNrr4nkzuqOl9fklY=\n"
	for _, tt := range []struct {
		name string
		conf string
		have func() error
		want string
	}{
		{"full tunnel", "[Interface]\n" + key + "\n[Peer]\nPublicKey = Ymg+XMu0cfu55nf/7AGCpcmSuKUr6BKbYDRVMiOJ2l4=\nAllowedIPs = 10.1.0.0/24\n\n" + peer + "AllowedIPs = 0.0.0.0/0, ::/0\n", none, "wg0.conf:8: error: no firewall for the full-tunnel rules"},
		{"split tunnel", "[Interface]\n" + key + peer + "AllowedIPs = 10.1.0.0/24\n", none, ""},
		{"table off", "[Interface]\n" + key + "Table = off\n" + peer + "AllowedIPs = 0.0.0.0/0\n", none, ""},
		{"not known", "[Interface]\n" + key + peer + "AllowedIPs = ::/0\n", nil, ""},
		{"available", "[Interface]\n" + key + peer + "AllowedIPs = ::/0\n", func() error { return nil }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var errs []string
			for _, f := range Check(context.Background(), "wg0.conf", []byte(tt.conf), CheckEnv{HaveFirewall: tt.have}) {
				if f.Severity == "error" {
					errs = append(errs, f.String())
				}
			}
			got := strings.Join(errs, "\n")
			if got != tt.want {
				t.Errorf("errors %q, want %q", got, tt.want)
			}
		})
	}
}
