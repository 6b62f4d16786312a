package main

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/keys"
	"github.com/wgtools/wgtools/internal/nettest"
	"github.com/wgtools/wgtools/internal/show"
)

var showForms = [][]string{
	{"show", "IF"},
	{"show", "IF", "public-key"}, {"show", "IF", "private-key"}, {"show", "IF", "listen-port"},
	{"show", "IF", "fwmark"}, {"show", "IF", "peers"}, {"show", "IF", "preshared-keys"},
	{"show", "IF", "endpoints"}, {"show", "IF", "allowed-ips"}, {"show", "IF", "latest-handshakes"},
	{"show", "IF", "transfer"}, {"show", "IF", "persistent-keepalive"}, {"show", "IF", "dump"},
	{"show", "IF", "bogus"},
	{"showconf", "IF"},
	{"show", "IF", "dump", "extra"},
}

// canonical makes output comparable across calls: wireguard-go lists peers
// in a random order on every request, so line-per-peer output is sorted and
// block-per-peer output (pretty, showconf) has its blocks sorted. The
// reference applies the same order to both tools' output, so nothing else
// is normalised.
func canonical(args []string, out string) string {
	switch {
	case args[0] == "showconf" || len(args) == 2:
		head, rest, ok := strings.Cut(out, "\n\n")
		if !ok {
			return out
		}
		blocks := strings.Split(strings.TrimRight(rest, "\n"), "\n\n")
		slices.Sort(blocks)
		return head + "\n\n" + strings.Join(blocks, "\n\n") + "\n"
	default:
		lines := strings.Split(out, "\n")
		if len(lines) > 2 && args[len(args)-1] == "dump" {
			slices.Sort(lines[1:])
		} else {
			slices.Sort(lines)
		}
		return strings.Join(lines, "\n")
	}
}

// compareShow prints every show form with both tools and compares them.
// Relative times ("1 second ago") are printed from the clock, so a
// mismatch is retried a few times before it counts.
func compareShow(t *testing.T, at wgAt, name string, env ...string) {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	for _, form := range showForms {
		args := slices.Clone(form)
		for i := range args {
			if args[i] == "IF" {
				args[i] = name
			}
		}
		diff := diffRetried(t, at, args, func(r result) any {
			r.Stdout = canonical(args, r.Stdout)
			return r
		})
		if diff != "" {
			t.Errorf("wg %q %v differs (-reference +ours):\n%s", form, env, diff)
		}
	}
}

// diffRetried runs args with both tools and diffs what keep picks out of
// their results, -reference +ours. The devices are live: relative times
// are printed from the clock, and a peer that received data without
// answering sends a keepalive 10 s later, moving the transfer counters
// between the two runs. So a difference is retried a few times before it
// counts; a real one repeats every time.
func diffRetried(t *testing.T, at wgAt, args []string, keep func(result) any) string {
	t.Helper()
	var diff string
	for range 3 {
		want, got := at.ref(t, "", args...), at.ours(t, "", args...)
		if diff = cmp.Diff(keep(want), keep(got)); diff == "" {
			break
		}
	}
	return diff
}

// TestShowAgainstReference configures a device with the reference wg (PSKs,
// IPv4 and IPv6 endpoints, keepalive, fwmark, many allowed IPs, a peer with
// none) and compares every show and showconf form, hidden and shown keys,
// with and without colour.
func TestShowAgainstReference(t *testing.T) {
	nettest.RequireRoot(t)
	name := nettest.UniqueIfName(t, "wgs")
	at := wgAt{nettest.NewNetNS(t)}
	nettest.NewDevice(t, at.ns, name)
	priv, pub := genKeys(t, 5)
	psk, _ := keys.GeneratePresharedKey()
	dir := t.TempDir()
	conf := dir + "/c.conf"
	var allowed []string
	for i := range 40 {
		allowed = append(allowed, "10.1."+strconv.Itoa(i)+".0/24", "fd00:"+strconv.Itoa(i+1)+"::/64")
	}
	text := "[Interface]\nPrivateKey = " + priv[0] + "\nListenPort = 51820\nFwMark = 0xca6c\n" +
		"[Peer]\nPublicKey = " + pub[1] + "\nPresharedKey = " + keys.Encode(psk) + "\nEndpoint = 192.0.2.1:51820\nPersistentKeepalive = 25\nAllowedIPs = " + strings.Join(allowed, ", ") + "\n" +
		"[Peer]\nPublicKey = " + pub[2] + "\nEndpoint = [2001:db8::2]:51821\nPersistentKeepalive = 65535\nAllowedIPs = 10.2.0.0/16, ::ffff:10.3.0.0/112\n" +
		"[Peer]\nPublicKey = " + pub[3] + "\n" +
		"[Peer]\nPublicKey = " + pub[4] + "\nEndpoint = [fe80::1%lo]:7\nAllowedIPs = 10.4.0.1/32\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := at.ref(t, "", "setconf", name, conf); r.Code != 0 {
		t.Fatalf("reference setconf: %s", r.Stderr)
	}
	compareShow(t, at, name, "WG_COLOR_MODE=never")
	compareShow(t, at, name, "WG_COLOR_MODE=always", "WG_HIDE_KEYS=never")
	compareShow(t, at, name, "WG_COLOR_MODE=never", "WG_HIDE_KEYS=never")
}

// TestShowAfterHandshake joins two devices across namespaces, sends real
// traffic through the tunnel and compares the forms again, now with
// non-zero handshake times and transfer counters.
func TestShowAfterHandshake(t *testing.T) {
	nettest.RequireRoot(t)
	nettest.RequireBinary(t, "ping")
	a, b := nettest.NewNetNS(t), nettest.NewNetNS(t)
	nettest.Veth(t, a, "veth0", "10.200.0.1/24", b, "veth0", "10.200.0.2/24")
	na, nb := nettest.UniqueIfName(t, "wga"), nettest.UniqueIfName(t, "wgb")
	nettest.NewDevice(t, a, na)
	nettest.NewDevice(t, b, nb)
	priv, pub := genKeys(t, 2)
	dir := t.TempDir()
	for i, side := range []struct {
		ns   *nettest.NetNS
		name string
		addr string
		peer string
	}{{a, na, "10.201.0.1/24", "10.200.0.2:51820"}, {b, nb, "10.201.0.2/24", "10.200.0.1:51820"}} {
		conf := dir + "/" + side.name
		text := "[Interface]\nPrivateKey = " + priv[i] + "\nListenPort = 51820\n[Peer]\nPublicKey = " + pub[1-i] +
			"\nEndpoint = " + side.peer + "\nAllowedIPs = 10.201.0.0/24\n"
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if r := (wgAt{side.ns}).ref(t, "", "setconf", side.name, conf); r.Code != 0 {
			t.Fatalf("setconf: %s", r.Stderr)
		}
		side.ns.Run(t, "ip", "address", "add", side.addr, "dev", side.name)
		side.ns.Run(t, "ip", "link", "set", side.name, "up")
	}
	a.Run(t, "ping", "-c", "3", "-i", "0.2", "-W", "5", "10.201.0.2")
	atA, atB := wgAt{a}, wgAt{b}
	out := atA.ref(t, "", "show", na, "latest-handshakes")
	if strings.HasSuffix(strings.TrimSpace(out.Stdout), "\t0") {
		t.Fatalf("no handshake after ping: %q", out.Stdout)
	}
	compareShow(t, atA, na, "WG_COLOR_MODE=never", "WG_HIDE_KEYS=never")
	compareShow(t, atB, nb, "WG_COLOR_MODE=always")
	// Our JSON agrees with the reference's dump of the same device (retried
	// like diffRetried: the counters may move between the two runs).
	var got, want []string
	for range 3 {
		var doc show.JSONDocument
		if err := json.Unmarshal([]byte(atA.ours(t, "", "show", na, "json").Stdout), &doc); err != nil || len(doc.Interfaces) != 1 {
			t.Fatalf("json: %v %+v", err, doc)
		}
		dump := strings.Split(strings.TrimSpace(atA.ref(t, "", "show", na, "dump").Stdout), "\n")
		p, cols := doc.Interfaces[0].Peers[0], strings.Split(dump[1], "\t")
		got = []string{p.PublicKey, strconv.FormatInt(p.LatestHandshakeUnix, 10), strconv.FormatUint(p.TransferRx, 10), strconv.FormatUint(p.TransferTx, 10)}
		if want = []string{cols[0], cols[4], cols[5], cols[6]}; slices.Equal(got, want) {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("json %v disagrees with the reference dump %v", got, want)
	}
	// show all and show interfaces see at least our two devices (kernel
	// devices: the one in the namespace); other tests' devices may come
	// and go, so compare only our lines.
	for _, field := range []string{"dump", "transfer", "latest-handshakes", "allowed-ips"} {
		for _, at := range []wgAt{atA, atB} {
			diff := diffRetried(t, at, []string{"show", "all", field}, func(r result) any { return ours(r.Stdout, na, nb) })
			if diff != "" {
				t.Errorf("show all %s differs (-reference +ours):\n%s", field, diff)
			}
		}
	}
}

// ours keeps the lines of a `show all` output that belong to the named
// interfaces, sorted.
func ours(out string, names ...string) []string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		for _, n := range names {
			if strings.HasPrefix(l, n+"\t") {
				keep = append(keep, l)
			}
		}
	}
	slices.Sort(keep)
	return keep
}
