package quick

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgtools/wgtools/internal/config"
	"github.com/wgtools/wgtools/internal/dns"
	"github.com/wgtools/wgtools/internal/firewall"
	"github.com/wgtools/wgtools/internal/sysexec"
)

const fullTunnel = `[Interface]
PrivateKey = eGvwC0w/iSf++8d3zGyAxieGhkOVC6HS9CM+5ht1kns=
Address = 10.0.0.2/24, fd00::2/64
DNS = 10.0.0.53, example.com
PreUp = echo pre %i
PostUp = echo post %i
PostDown = echo postdown %i

[Peer]
PublicKey = rH88fXnB0eX4gld6mGOlPI0uEQWNrr4nkzuqOl9fklY=
Endpoint = 192.0.2.1:51820
AllowedIPs = 0.0.0.0/0, ::/0, 10.9.0.0/16
`

func parse(t *testing.T, text string) *config.Config {
	t.Helper()
	c, err := config.ParseQuick([]byte(text), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestUpTranscript checks the order of a full-tunnel up against upstream
// wg-quick's: link (userspace fallback), PreUp, device, addresses, MTU, DNS,
// routes longest prefix first with the two rules before each default route,
// firewall, src_valid_mark, PostUp.
func TestUpTranscript(t *testing.T) {
	f := newFakeSystem()
	f.external = true
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	if err := e.Up(context.Background(), "wg0", parse(t, fullTunnel)); err != nil {
		t.Fatalf("up: %v\n%s", err, stderr.String())
	}
	want := `[#] ip link add dev wg0 type wireguard
[!] Missing WireGuard kernel module. Falling back to slow userspace implementation.
[#] wg-quick userspace wg0
[#] echo pre wg0
[#] wg addconf wg0 /dev/fd/63
[#] ip -4 address add 10.0.0.2/24 dev wg0
[#] ip -6 address add fd00::2/64 dev wg0
[#] ip link set mtu 1320 up dev wg0
[#] resolvconf -a wg0 -m 0 -x
[#] ip -4 route add 10.9.0.0/16 dev wg0
[#] wg set wg0 fwmark 51820
[#] ip -6 rule add not fwmark 51820 table 51820
[#] ip -6 rule add table main suppress_prefixlength 0
[#] ip -6 route add ::/0 dev wg0 table 51820
[#] nft -f /dev/fd/63
[#] ip -4 rule add not fwmark 51820 table 51820
[#] ip -4 rule add table main suppress_prefixlength 0
[#] ip -4 route add 0.0.0.0/0 dev wg0 table 51820
[#] sysctl -q net.ipv4.conf.all.src_valid_mark=1
[#] nft -f /dev/fd/63
[#] echo post wg0
`
	if diff := cmp.Diff(want, stderr.String()); diff != "" {
		t.Errorf("transcript (-want +got):\n%s", diff)
	}
	if got := rec.Stdins[1]; got != "nameserver 10.0.0.53\nsearch example.com\n" {
		t.Errorf("resolvconf input %q", got)
	}
	if f.sysctl["net.ipv4.conf.all.src_valid_mark"] != "1" || !f.nft["ip4 wg-quick-wg0"] || !f.nft["ip6 wg-quick-wg0"] {
		t.Errorf("full tunnel not in place:\n%s", f)
	}
}

// TestIptablesBackend: with the iptables fallback the transcript names
// iptables-restore and ip6tables-restore where nft would be, the journal
// records the backend, and down removes the rules with it (printing one
// restore per family, as wg-quick's remove_firewall does).
func TestIptablesBackend(t *testing.T) {
	f := newFakeSystem()
	f.backend = firewall.BackendIptables
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	before := f.String()
	if err := e.Up(context.Background(), "wg0", parse(t, fullTunnel)); err != nil {
		t.Fatalf("up: %v\n%s", err, stderr.String())
	}
	got := stderr.String()
	for _, want := range []string{
		"[#] ip -6 route add ::/0 dev wg0 table 51820\n[#] ip6tables-restore -n\n",
		"[#] sysctl -q net.ipv4.conf.all.src_valid_mark=1\n[#] iptables-restore -n\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("up transcript lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "nft") {
		t.Errorf("up transcript mentions nft:\n%s", got)
	}
	j, err := loadJournal(e.StateDir, "wg0")
	if err != nil || j == nil {
		t.Fatalf("journal: %v %v", j, err)
	}
	i := slices.IndexFunc(j.Undo, func(u Undo) bool { return u.Kind == UndoFirewall })
	if i < 0 || j.Undo[i].Backend != firewall.BackendIptables || !slices.Equal(j.Undo[i].Families, []int{6, 4}) {
		t.Fatalf("firewall record %+v", j.Undo)
	}
	stderr.Reset()
	if err := e.Down(context.Background(), "wg0", parse(t, fullTunnel), ""); err != nil {
		t.Fatalf("down: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "[#] iptables-restore -n\n[#] ip6tables-restore -n\n") {
		t.Errorf("down transcript:\n%s", stderr.String())
	}
	if !slices.Equal(f.removedBy, []string{firewall.BackendIptables}) {
		t.Errorf("Remove backends %q", f.removedBy)
	}
	f.sysctl["net.ipv4.conf.all.src_valid_mark"] = "0" // down leaves it, as wg-quick
	if after := f.String(); after != before {
		t.Errorf("after down:\n%s\nwant:\n%s", after, before)
	}
}

// TestUpRollback injects a failure into every step of up in turn; the
// system must then be exactly as before, and the error must name the cause.
func TestUpRollback(t *testing.T) {
	steps := []string{"Start", "Configure#1", "AddAddress#1", "AddAddress#2", "SetMTUUp", "AddRoute#1",
		"Configure#2", "AddRule#1", "AddRule#2", "AddRoute#2", "Apply#1", "AddRule#3", "AddRule#4", "AddRoute#3", "WriteSysctl#1", "Apply#2",
		"hook:pre", "hook:post", "resolvconf"}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			f := newFakeSystem()
			f.external = true
			before := f.String()
			rec := &sysexec.Recorder{Results: map[string]error{}}
			switch step {
			case "hook:pre":
				rec.Results["bash -e -o pipefail -O extglob -c echo pre wg0"] = &sysexec.ExitError{Cmd: "pre", Code: 1}
			case "hook:post":
				rec.Results["bash -e -o pipefail -O extglob -c echo post wg0"] = &sysexec.ExitError{Cmd: "post", Code: 1}
			case "resolvconf":
				rec.Results["resolvconf -a wg0 -m 0 -x"] = &sysexec.ExitError{Cmd: "resolvconf", Code: 1}
			default:
				f.fail = step
			}
			var stderr bytes.Buffer
			e := newEnv(t, f, rec, &stderr)
			err := e.Up(context.Background(), "wg0", parse(t, fullTunnel))
			if err == nil {
				t.Fatalf("up succeeded despite the failure\n%s", stderr.String())
			}
			// The error names the cause.
			cause := map[string]string{"hook:pre": "pre: exit status 1", "hook:post": "post: exit status 1", "resolvconf": "resolvconf: exit status 1"}[step]
			if cause == "" {
				name, _, _ := strings.Cut(step, "#")
				cause = "injected failure in " + name
			}
			if !strings.Contains(err.Error(), cause) {
				t.Errorf("error %q does not name the cause %q", err, cause)
			}
			if diff := cmp.Diff(before, f.String()); diff != "" {
				t.Errorf("state after rollback (-before +after):\n%s\ntranscript:\n%s", diff, stderr.String())
			}
			if j, _ := loadJournal(e.StateDir, "wg0"); j != nil {
				t.Errorf("journal left behind: %+v", j)
			}
			// DNS set before the failure must have been reverted.
			if slices.Contains(rec.Cmds, "resolvconf -a wg0 -m 0 -x") && !slices.Contains(rec.Cmds, "resolvconf -d wg0 -f") {
				t.Errorf("DNS not reverted: %v", rec.Cmds)
			}
		})
	}
}

// TestUpInterrupted cancels the context (SIGINT) during up.
func TestUpInterrupted(t *testing.T) {
	f := newFakeSystem()
	before := f.String()
	ctx, cancel := context.WithCancel(context.Background())
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	cancel()
	if err := e.Up(ctx, "wg0", parse(t, fullTunnel)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff(before, f.String()); diff != "" {
		t.Errorf("state after interrupted up (-before +after):\n%s", diff)
	}
}

// TestDownKeepsWhatItCouldNotUndo: a down whose rule deletions fail goes
// on with the rest, fails naming the cause, and keeps exactly the failed
// records in the journal; the next down (the link now gone) removes them
// and the journal.
func TestDownKeepsWhatItCouldNotUndo(t *testing.T) {
	f := newFakeSystem()
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	before := f.String()
	cfg := parse(t, fullTunnel)
	if err := e.Up(context.Background(), "wg0", cfg); err != nil {
		t.Fatal(err)
	}
	f.fail = "DeleteRule"
	err := e.Down(context.Background(), "wg0", cfg, "")
	if err == nil || !strings.Contains(err.Error(), "injected failure in DeleteRule") {
		t.Fatalf("down: %v, want the rule deletion's failure", err)
	}
	if _, ok := f.links["wg0"]; ok {
		t.Error("down stopped at the failed rule: the link is still there")
	}
	j, err := loadJournal(e.StateDir, "wg0")
	if err != nil || j == nil {
		t.Fatalf("journal after the failed down: %v, %v", j, err)
	}
	for _, u := range j.Undo {
		if u.Kind != UndoRule {
			t.Errorf("journal kept %+v, which was undone", u)
		}
	}
	if len(j.Undo) != 4 {
		t.Errorf("journal kept %d records, want the 4 rules", len(j.Undo))
	}
	f.fail = ""
	if err := e.Down(context.Background(), "wg0", cfg, ""); err != nil {
		t.Fatalf("second down: %v", err)
	}
	if j, _ := loadJournal(e.StateDir, "wg0"); j != nil {
		t.Errorf("journal left after the second down: %+v", j)
	}
	want := strings.Replace(before, "src_valid_mark:0", "src_valid_mark:1", 1)
	if diff := cmp.Diff(want, f.String()); diff != "" {
		t.Errorf("state after the second down (-want +got):\n%s", diff)
	}
}

// TestDownRemovesOnlyOwnRules brings two full tunnels up and one down: the
// other's rules, including its identical suppress_prefixlength rule, stay.
func TestDownRemovesOnlyOwnRules(t *testing.T) {
	f := newFakeSystem()
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	before := f.String()
	cfg := parse(t, fullTunnel)
	if err := e.Up(context.Background(), "wg0", cfg); err != nil {
		t.Fatal(err)
	}
	mid := f.String()
	e.Hooks.Iface = "wg1"
	if err := e.Up(context.Background(), "wg1", parse(t, fullTunnel)); err != nil {
		t.Fatal(err)
	}
	if f.devices["wg1"].FirewallMark != 51821 {
		t.Errorf("second tunnel fwmark %d, want 51821", f.devices["wg1"].FirewallMark)
	}
	if err := e.Down(context.Background(), "wg1", cfg, ""); err != nil {
		t.Fatal(err)
	}
	// src_valid_mark stays 1 after down, as with wg-quick.
	if diff := cmp.Diff(mid, f.String()); diff != "" {
		t.Errorf("wg1 down disturbed wg0 (-before wg1 up +after wg1 down):\n%s", diff)
	}
	e.Hooks.Iface = "wg0"
	if err := e.Down(context.Background(), "wg0", cfg, ""); err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(before, "src_valid_mark:0", "src_valid_mark:1", 1)
	if diff := cmp.Diff(want, f.String()); diff != "" {
		t.Errorf("state after both down (-want +got):\n%s", diff)
	}
}

// TestDownUsesJournalNotConfig: the file changed between up and down (DNS
// removed, full tunnel removed); down still undoes what up did.
func TestDownUsesJournalNotConfig(t *testing.T) {
	f := newFakeSystem()
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	before := f.String()
	if err := e.Up(context.Background(), "wg0", parse(t, fullTunnel)); err != nil {
		t.Fatal(err)
	}
	changed := parse(t, "[Interface]\nPrivateKey = eGvwC0w/iSf++8d3zGyAxieGhkOVC6HS9CM+5ht1kns=\n")
	if err := e.Down(context.Background(), "wg0", changed, ""); err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(before, "src_valid_mark:0", "src_valid_mark:1", 1)
	if diff := cmp.Diff(want, f.String()); diff != "" {
		t.Errorf("state after down (-want +got):\n%s", diff)
	}
	if !slices.Contains(rec.Cmds, "resolvconf -d wg0 -f") {
		t.Errorf("DNS recorded at up was not removed: %v", rec.Cmds)
	}
}

func TestUpPreflight(t *testing.T) {
	for name, tt := range map[string]struct {
		cfg  string
		prep func(*fakeSystem, *Env)
		want string
	}{
		"exists":    {cfg: "[Interface]\n", prep: func(f *fakeSystem, _ *Env) { f.links["wg0"] = &fakeLink{} }, want: "`wg0' already exists"},
		"bad table": {cfg: "[Interface]\nTable = nosuch\n", want: "table `nosuch'"},
		"no dns": {cfg: "[Interface]\nDNS = 10.0.0.53\n", prep: func(_ *fakeSystem, e *Env) {
			e.DNS.LookPath = func(string) (string, bool) { return "", false }
		}, want: dns.ErrNoResolver.Error()},
		"no firewall": {cfg: fullTunnel, prep: func(f *fakeSystem, _ *Env) {
			f.backendErr = errors.New("no firewall for the full-tunnel rules")
		}, want: "no firewall for the full-tunnel rules"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeSystem()
			rec := &sysexec.Recorder{}
			var stderr bytes.Buffer
			e := newEnv(t, f, rec, &stderr)
			if tt.prep != nil {
				tt.prep(f, e)
			}
			before := f.String()
			err := e.Up(context.Background(), "wg0", parse(t, tt.cfg))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if f.String() != before || stderr.Len() != 0 || len(rec.Cmds) != 0 {
				t.Errorf("preflight failure changed something: %s %v", stderr.String(), rec.Cmds)
			}
		})
	}
}

func Test_sortRoutes(t *testing.T) {
	var ps []netip.Prefix
	for _, s := range []string{"0.0.0.0/0", "10.0.0.0/8", "::/0", "10.1.0.0/16", "fd00::/64", "172.16.0.0/12", "10.0.0.1/32"} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	sortRoutes(ps)
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	// `sort -nr -k 2 -t /`: longest first; ties reverse byte order (::/0
	// before 0.0.0.0/0, as observed with wg-quick).
	want := []string{"fd00::/64", "10.0.0.1/32", "10.1.0.0/16", "172.16.0.0/12", "10.0.0.0/8", "::/0", "0.0.0.0/0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// TestDownAfterDeviceKilled: the userspace device died (SIGKILL) and took
// its link along; down must still remove the rules, firewall and DNS that
// up recorded, instead of refusing as wg-quick does.
func TestDownAfterDeviceKilled(t *testing.T) {
	f := newFakeSystem()
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	before := f.String()
	cfg := parse(t, fullTunnel)
	if err := e.Up(context.Background(), "wg0", cfg); err != nil {
		t.Fatal(err)
	}
	f.DeleteLink("wg0") // the daemon is gone, and its TUN with it
	if err := e.Down(context.Background(), "wg0", cfg, ""); err != nil {
		t.Fatalf("down after the device died: %v", err)
	}
	want := strings.Replace(before, "src_valid_mark:0", "src_valid_mark:1", 1)
	if diff := cmp.Diff(want, f.String()); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	if !slices.Contains(rec.Cmds, "resolvconf -d wg0 -f") {
		t.Errorf("DNS not removed: %v", rec.Cmds)
	}
	// Without a journal, a missing interface is still the reference's error.
	if err := e.Down(context.Background(), "wg0", cfg, ""); err == nil || !strings.Contains(err.Error(), "is not a WireGuard interface") {
		t.Errorf("second down: %v", err)
	}
}

// TestUpCleansStaleJournal: up after the device died without a down first
// removes what the earlier up left, so rules do not pile up.
func TestUpCleansStaleJournal(t *testing.T) {
	f := newFakeSystem()
	rec := &sysexec.Recorder{}
	var stderr bytes.Buffer
	e := newEnv(t, f, rec, &stderr)
	cfg := parse(t, fullTunnel)
	if err := e.Up(context.Background(), "wg0", cfg); err != nil {
		t.Fatal(err)
	}
	first := f.String()
	f.DeleteLink("wg0")
	if err := e.Up(context.Background(), "wg0", cfg); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, f.String()); diff != "" {
		t.Errorf("second up differs from the first (rules piled up?) (-first +second):\n%s", diff)
	}
}

// TestUpFinalJournalWriteFails: when the write that marks up complete
// fails, up fails, every change is rolled back (the full tunnel's rules,
// firewall and sysctl included) and no journal is left, not one that
// calls the interface up.
func TestUpFinalJournalWriteFails(t *testing.T) {
	f := newFakeSystem()
	before := f.String()
	var stderr bytes.Buffer
	e := newEnv(t, f, &sysexec.Recorder{}, &stderr)
	e.WriteState = func(path string, data []byte) error {
		if bytes.Contains(data, []byte(`"complete": true`)) {
			return errors.New("disk full")
		}
		return writeJournal(path, data, nil)
	}
	err := e.Up(context.Background(), "wg0", parse(t, fullTunnel))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("up = %v, want the failed write\n%s", err, stderr.String())
	}
	if diff := cmp.Diff(before, f.String()); diff != "" {
		t.Errorf("state after the failed up (-before +after):\n%s\n%s", diff, stderr.String())
	}
	j, err := loadJournal(e.StateDir, "wg0")
	if err != nil {
		t.Fatal(err)
	}
	if j != nil {
		t.Errorf("journal left: complete %v, records %+v", j.Complete, j.Undo)
	}
}
