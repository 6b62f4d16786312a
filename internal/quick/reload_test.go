package quick

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/keys"
)

// TestReload checks every case both ways (before → after and after →
// before): the reload reaches the state a fresh up of the new file
// reaches, its journal holds the same baseline, only the expected peers
// are sent anything, hooks do not run, the dry run prints exactly what the
// reload then does and changes nothing, and down afterwards leaves nothing.
func TestReload(t *testing.T) {
	for _, tt := range reloadCases {
		for _, dir := range []string{"forward", "back"} {
			t.Run(tt.name+"/"+dir, func(t *testing.T) {
				before, after := testKeys.Replace(tt.before), testKeys.Replace(tt.after)
				if dir == "back" {
					before, after = after, before
				}
				fresh := newReloadEnv(t)
				if err := fresh.Up(context.Background(), "wg0", parse(t, after)); err != nil {
					t.Fatalf("fresh up: %v\n%s", err, fresh.stderr)
				}

				r := newReloadEnv(t)
				pristine := r.state(true)
				if err := r.Up(context.Background(), "wg0", parse(t, before)); err != nil {
					t.Fatalf("up: %v\n%s", err, r.stderr)
				}
				up, journal, hooks := r.state(true), r.journal(t), len(r.hooks.Cmds)
				r.f.configs = nil
				r.stderr.Reset()

				if err := r.Reload(context.Background(), "wg0", parse(t, after), ReloadOptions{DryRun: true}); err != nil {
					t.Fatalf("dry run: %v\n%s", err, r.stderr)
				}
				plan := r.stderr.String()
				if diff := cmp.Diff(up, r.state(true)); diff != "" || r.journal(t) != journal || len(r.f.configs) > 0 {
					t.Fatalf("dry run changed something (-before +after):\n%s", diff)
				}
				r.stderr.Reset()

				if err := r.Reload(context.Background(), "wg0", parse(t, after), ReloadOptions{}); err != nil {
					t.Fatalf("reload: %v\n%s", err, r.stderr)
				}
				t.Logf("reload:\n%s", r.stderr)
				if diff := cmp.Diff(plan, r.stderr.String()); diff != "" {
					t.Errorf("dry run differs from the reload (-dry +real):\n%s", diff)
				}
				if before == after && r.stderr.Len() > 0 {
					t.Errorf("nothing changed, yet reload printed:\n%s", r.stderr)
				}

				want := fresh.state(false)
				// Like down, reload leaves src_valid_mark as it is.
				if fullFamilies(parseApplied(t, before))[4] {
					want = strings.Replace(want, "src_valid_mark:0", "src_valid_mark:1", 1)
				}
				if diff := cmp.Diff(want, r.state(false)); diff != "" {
					t.Errorf("state after reload differs from a fresh up (-fresh +reload):\n%s", diff)
				}
				if diff := cmp.Diff(fresh.applied(t), r.applied(t)); diff != "" {
					t.Errorf("journal baseline differs from a fresh up's (-fresh +reload):\n%s", diff)
				}
				if len(r.hooks.Cmds) != hooks {
					t.Errorf("reload ran hooks: %v", r.hooks.Cmds[hooks:])
				}
				wantTouched := tt.touched
				if dir == "back" {
					wantTouched = touchedBack(tt.name, tt.touched)
				}
				if diff := cmp.Diff(wantTouched, r.touched()); diff != "" {
					t.Errorf("peers sent a configuration (-want +got):\n%s\nreload:\n%s", diff, r.stderr)
				}

				// Down undoes exactly what up and reload left.
				if err := r.Down(context.Background(), "wg0", parse(t, after), ""); err != nil {
					t.Fatalf("down: %v", err)
				}
				want = pristine
				if fullFamilies(parseApplied(t, before))[4] || fullFamilies(parseApplied(t, after))[4] {
					want = strings.Replace(want, "src_valid_mark:0", "src_valid_mark:1", 1)
				}
				if diff := cmp.Diff(want, r.state(true)); diff != "" {
					t.Errorf("state after down (-before up +after down):\n%s", diff)
				}
			})
		}
	}
}

// touchedBack is the peers the reverse of a case sends: the same, except
// where a case's direction matters.
func touchedBack(name string, touched []string) []string {
	switch name {
	case "prefix moved to a new peer", "prefix moved, then more":
		// B must get 10.2.0.0/16 back.
		return append([]string{"B"}, touched...)
	case "prefix taken by a changed peer":
		// A loses 10.2.0.0/16 to B, which is enough.
		return []string{"B"}
	}
	return touched
}

func parseApplied(t *testing.T, text string) *Applied {
	t.Helper()
	cfg := parse(t, text)
	peers, err := mergePeers(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return newApplied(cfg, peers)
}

// TestReloadTableSequence walks Table through 1234, off and auto, and the
// full tunnel on and off, each reload reaching a fresh up's state.
func TestReloadTableSequence(t *testing.T) {
	full := edit(reloadBase, "AllowedIPs = 10.1.0.0/16=>AllowedIPs = 0.0.0.0/0, ::/0")
	withTable := func(text, table string) string {
		return edit(text, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nTable = "+table)
	}
	seq := []string{withTable(reloadBase, "1234"), withTable(reloadBase, "off"), withTable(reloadBase, "auto"), full, withTable(full, "1234"), withTable(full, "off"), full, reloadBase}
	r := newReloadEnv(t)
	if err := r.Up(context.Background(), "wg0", parse(t, testKeys.Replace(seq[0]))); err != nil {
		t.Fatal(err)
	}
	for i, text := range seq[1:] {
		text = testKeys.Replace(text)
		r.stderr.Reset()
		if err := r.Reload(context.Background(), "wg0", parse(t, text), ReloadOptions{}); err != nil {
			t.Fatalf("reload %d: %v\n%s", i+1, err, r.stderr)
		}
		fresh := newReloadEnv(t)
		if err := fresh.Up(context.Background(), "wg0", parse(t, text)); err != nil {
			t.Fatal(err)
		}
		want := strings.Replace(fresh.state(false), "src_valid_mark:0", "src_valid_mark:1", 1)
		if diff := cmp.Diff(want, strings.Replace(r.state(false), "src_valid_mark:0", "src_valid_mark:1", 1)); diff != "" {
			t.Errorf("step %d: state differs from a fresh up (-fresh +reload):\n%s\nreload:\n%s", i+1, diff, r.stderr)
		}
	}
}

// TestReloadTranscript pins the commands of one reload that changes a bit
// of everything.
func TestReloadTranscript(t *testing.T) {
	r := newReloadEnv(t)
	before := testKeys.Replace(edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nDNS = 10.0.0.53"))
	if err := r.Up(context.Background(), "wg0", parse(t, before)); err != nil {
		t.Fatal(err)
	}
	r.stderr.Reset()
	after := testKeys.Replace(edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.3/24\nDNS = 10.0.0.54",
		"AllowedIPs = 10.1.0.0/16=>AllowedIPs = 0.0.0.0/0", "PresharedKey = <PSK1>=>PresharedKey = <PSK2>", peerC))
	if err := r.Reload(context.Background(), "wg0", parse(t, after), ReloadOptions{}); err != nil {
		t.Fatalf("reload: %v\n%s", err, r.stderr)
	}
	want := `[#] wg set wg0 peer <A> allowed-ips 0.0.0.0/0
[#] wg set wg0 peer <B> preshared-key /dev/fd/63
[#] wg set wg0 peer <C> allowed-ips 10.4.0.0/16
[#] ip -4 route del 10.1.0.0/16 dev wg0
[#] ip -4 address del 10.0.0.2/24 dev wg0
[#] ip -4 address add 10.0.0.3/24 dev wg0
[#] resolvconf -d wg0 -f
[#] resolvconf -a wg0 -m 0 -x
[#] ip -4 route add 10.4.0.0/16 dev wg0
[#] wg set wg0 fwmark 51820
[#] ip -4 rule add not fwmark 51820 table 51820
[#] ip -4 rule add table main suppress_prefixlength 0
[#] ip -4 route add 0.0.0.0/0 dev wg0 table 51820
[#] sysctl -q net.ipv4.conf.all.src_valid_mark=1
[#] nft -f /dev/fd/63
`
	if diff := cmp.Diff(testKeys.Replace(want), r.stderr.String()); diff != "" {
		t.Errorf("transcript (-want +got):\n%s", diff)
	}
	if got := r.rc.records["wg0"]; got != "nameserver 10.0.0.54\n" {
		t.Errorf("resolvconf record %q", got)
	}
}

// reloadFaulty is the transition the fault injection runs: every kind of
// step, and the full tunnel switched on.
var reloadFaulty = reloadCases[len(reloadCases)-1]

// TestReloadRollback fails every system call of every case's reload in
// turn, and the DNS commands: the system (the device's peers in full
// included), the DNS records and the journal must then be exactly as before
// the reload, and the error must name the cause.
func TestReloadRollback(t *testing.T) {
	for _, tt := range reloadCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testReloadRollback(t, tt.before, tt.after)
		})
	}
}

func testReloadRollback(t *testing.T, from, to string) {
	from, to = testKeys.Replace(from), testKeys.Replace(to)
	for _, dir := range []string{"forward", "back"} {
		before, after := from, to
		if dir == "back" {
			before, after = to, from
		}
		// A successful run counts the calls to fail.
		r := newReloadEnv(t)
		if err := r.Up(context.Background(), "wg0", parse(t, before)); err != nil {
			t.Fatal(err)
		}
		base := maps(r.f.calls)
		adds := r.rc.adds
		if err := r.Reload(context.Background(), "wg0", parse(t, after), ReloadOptions{}); err != nil {
			t.Fatalf("reload: %v\n%s", err, r.stderr)
		}
		var points []string
		for _, op := range sortedKeys(r.f.calls) {
			for k := base[op] + 1; k <= r.f.calls[op]; k++ {
				points = append(points, fmt.Sprintf("%s#%d", op, k))
			}
		}
		for k := adds + 1; k <= r.rc.adds; k++ {
			points = append(points, fmt.Sprintf("resolvconf#%d", k))
		}
		for _, point := range points {
			t.Run(dir+"/"+point, func(t *testing.T) {
				t.Parallel() // the journal's fsyncs dominate
				r := newReloadEnv(t)
				if err := r.Up(context.Background(), "wg0", parse(t, before)); err != nil {
					t.Fatal(err)
				}
				state, journal := r.state(true), r.journal(t)
				if n, ok := strings.CutPrefix(point, "resolvconf#"); ok {
					fmt.Sscan(n, &r.rc.failAt)
				} else {
					r.f.fail = point
				}
				r.stderr.Reset()
				err := r.Reload(context.Background(), "wg0", parse(t, after), ReloadOptions{})
				if err == nil {
					t.Fatalf("reload succeeded despite the failure\n%s", r.stderr)
				}
				if !strings.Contains(err.Error(), "injected failure") && !strings.Contains(err.Error(), "exit status 1") {
					t.Errorf("error %q does not name the cause", err)
				}
				if strings.Contains(err.Error(), "rolling back") {
					t.Errorf("rollback failed: %v", err)
				}
				if diff := cmp.Diff(state, r.state(true)); diff != "" {
					t.Errorf("state after rollback (-before +after):\n%s\ntranscript:\n%s", diff, r.stderr)
				}
				if diff := cmp.Diff(journal, r.journal(t)); diff != "" {
					t.Errorf("journal after rollback (-before +after):\n%s", diff)
				}
			})
		}
	}
}

func maps(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestReloadInterrupted cancels the context: nothing changes.
func TestReloadInterrupted(t *testing.T) {
	r := newReloadEnv(t)
	if err := r.Up(context.Background(), "wg0", parse(t, testKeys.Replace(reloadFaulty.before))); err != nil {
		t.Fatal(err)
	}
	state, journal := r.state(true), r.journal(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Reload(ctx, "wg0", parse(t, testKeys.Replace(reloadFaulty.after)), ReloadOptions{}); err == nil {
		t.Fatal("reload succeeded with a cancelled context")
	}
	if diff := cmp.Diff(state, r.state(true)); diff != "" || r.journal(t) != journal {
		t.Errorf("state after an interrupted reload (-before +after):\n%s", diff)
	}
}

func TestReloadRefuses(t *testing.T) {
	text := testKeys.Replace(reloadBase)
	tests := []struct {
		name string
		prep func(t *testing.T, r *reloadEnv)
		cfg  string
		want string
	}{
		{name: "not up", want: "`wg0' is not a WireGuard interface"},
		{name: "no journal", prep: func(t *testing.T, r *reloadEnv) {
			r.up(t, text)
			os.Remove(journalPath(r.StateDir, "wg0"))
		}, want: "not brought up by wg-quick"},
		{name: "old journal", prep: func(t *testing.T, r *reloadEnv) {
			r.up(t, text)
			j, _ := loadJournal(r.StateDir, "wg0")
			j.Applied = nil
			j.save()
		}, want: "without reload"},
		{name: "bad table", prep: func(t *testing.T, r *reloadEnv) { r.up(t, text) }, cfg: edit(text, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nTable = nosuch"), want: "table `nosuch'"},
		{name: "unresolvable", prep: func(t *testing.T, r *reloadEnv) { r.up(t, text) }, cfg: edit(text, "Endpoint = vpn.example.com:51820=>Endpoint = nosuch.example.com:51820"), want: "Name or service not known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReloadEnv(t)
			if tt.prep != nil {
				tt.prep(t, r)
			}
			if tt.cfg == "" {
				tt.cfg = text
			}
			state := r.state(true)
			r.stderr.Reset()
			r.f.configs = nil
			err := r.Reload(context.Background(), "wg0", parse(t, tt.cfg), ReloadOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if r.state(true) != state || r.stderr.Len() != 0 || len(r.f.configs) != 0 {
				t.Errorf("a refused reload changed something: %s", r.stderr)
			}
		})
	}
}

func (r *reloadEnv) up(t *testing.T, text string) {
	t.Helper()
	if err := r.Up(context.Background(), "wg0", parse(t, text)); err != nil {
		t.Fatal(err)
	}
}

// TestJournalApplied pins what the journal stores of a configuration: no
// secret, endpoints as written.
func TestJournalApplied(t *testing.T) {
	r := newReloadEnv(t)
	r.up(t, testKeys.Replace(edit(reloadBase, "Address = 10.0.0.2/24=>Address = 10.0.0.2/24\nDNS = 10.0.0.53, example.com")))
	text := r.journal(t)
	var j struct {
		Applied json.RawMessage `json:"applied"`
		Log     *LogRef         `json:"applied_log"`
	}
	if err := json.Unmarshal([]byte(text), &j); err != nil {
		t.Fatal(err)
	}
	if j.Log == nil || j.Log.Gen != 1 {
		t.Fatalf("journal names no log, or not the first: %+v\n%s", j.Log, text)
	}
	logText, err := os.ReadFile(logPath(journalPath(r.StateDir, "wg0"), 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{testKey(0x10).String(), testKey(0x30).String()} {
		if strings.Contains(text, secret) || strings.Contains(string(logText), secret) {
			t.Errorf("the journal or its log holds a secret:\n%s\n%s", text, logText)
		}
	}
	got := regexp.MustCompile(`\s+`).ReplaceAllString(string(j.Applied), "")
	want := testKeys.Replace(`{"public_key":"` + publicOf(testKey(0x10)) + `","listen_port":51820,"addresses":["10.0.0.2/24"],"dns":["10.0.0.53"],"dns_search":["example.com"]}`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("journal's applied (-want +got):\n%s", diff)
	}
	wantLog := testKeys.Replace(`{"peer":{"public_key":"<A>","endpoint":"192.0.2.1:51820","allowed_ips":["10.1.0.0/16"]}}
{"peer":{"public_key":"<B>","psk_sha256":"` + fingerprint(testKey(0x30)) + `","endpoint":"vpn.example.com:51820","persistent_keepalive":25,"allowed_ips":["10.2.0.0/16","10.3.0.1/32"]}}
{"route":{"prefix":"10.3.0.1/32"}}
{"route":{"prefix":"10.2.0.0/16"}}
{"route":{"prefix":"10.1.0.0/16"}}
`)
	if diff := cmp.Diff(wantLog, string(logText)); diff != "" || int64(len(logText)) != j.Log.Len {
		t.Errorf("the log (-want +got, committed %d bytes):\n%s", j.Log.Len, diff)
	}
}

func publicOf(k wgtypes.Key) string { return keys.Public(k).String() }

func Test_mergePeers(t *testing.T) {
	cfg := parse(t, testKeys.Replace(`[Peer]
PublicKey = <A>
AllowedIPs = 10.1.0.0/16, 10.2.0.7/16
[Peer]
PublicKey = <B>
AllowedIPs = 10.1.0.0/16
[Peer]
PublicKey = <A>
Endpoint = 192.0.2.1:1
AllowedIPs = +10.3.0.0/16
[Peer]
PublicKey = <C>
AllowedIPs = 10.4.0.0/16
[Peer]
PublicKey = <C>
AllowedIPs = 10.5.0.0/16
`))
	peers, err := mergePeers(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range peers {
		a := appliedPeer(p)
		got = append(got, fmt.Sprintf("%s %s %v", keyName[p.Key], a.Endpoint, a.AllowedIPs))
	}
	// 10.1.0.0/16 moved to B; + adds to A; C's second section replaces.
	want := []string{"A 192.0.2.1:1 [10.2.0.0/16 10.3.0.0/16]", "B  [10.1.0.0/16]", "C  [10.5.0.0/16]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged peers (-want +got):\n%s", diff)
	}
}

// TestJournalWritesOnce: what an up or a reload writes to the journal and
// its log is proportional to what it changes, not to the peer count: an up
// of a full tunnel with 2,000 peers writes its peers once (the journal's
// records are small), and a reload changing one peer of them writes a few
// hundred bytes of log and small journals. Before, each of up's dozen
// records rewrote every peer, and a reload rewrote them all.
func TestJournalWritesOnce(t *testing.T) {
	r := newReloadEnv(t)
	var journalBytes int
	r.WriteState = func(path string, data []byte) error {
		journalBytes += len(data)
		return writeJournal(path, data, nil)
	}
	logBytes := func() int64 {
		var n int64
		for _, p := range logFiles(journalPath(r.StateDir, "wg0")) {
			if st, err := os.Stat(p); err == nil {
				n += st.Size()
			}
		}
		return n
	}
	var text strings.Builder
	text.WriteString("[Interface]\nPrivateKey = " + testKey(1).String() + "\nAddress = 10.0.0.2/16, fd00::2/64\nDNS = 10.0.0.53\n")
	for i := range 2000 {
		var k [32]byte
		k[0], k[1], k[31] = byte(i), byte(i>>8), 7
		allowed := fmt.Sprintf("10.%d.%d.0/24", 100+i/256, i%256)
		if i == 0 {
			allowed = "0.0.0.0/0, ::/0"
		}
		fmt.Fprintf(&text, "\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\n", wgtypes.Key(k), allowed)
	}
	r.up(t, text.String())
	full := logBytes()
	if full < 2000*100 || journalBytes > 20000 {
		t.Errorf("up wrote %d bytes of journals and a log of %d bytes: want the peers once, in the log", journalBytes, full)
	}
	t.Logf("up: journals %d bytes, log %d bytes", journalBytes, full)

	journalBytes = 0
	changed := strings.Replace(text.String(), "AllowedIPs = 10.100.5.0/24", "AllowedIPs = 10.99.5.0/24", 1)
	if err := r.Reload(context.Background(), "wg0", parse(t, changed), ReloadOptions{}); err != nil {
		t.Fatal(err)
	}
	grown := logBytes() - full
	if grown <= 0 || grown > 1000 || journalBytes > 10000 {
		t.Errorf("reload of one peer: journals %d bytes, log grew by %d bytes; want a few hundred bytes of each", journalBytes, grown)
	}
	t.Logf("reload of one peer: journals %d bytes, log +%d bytes", journalBytes, grown)
	// What a later reload reads back is what is in force.
	j, err := loadJournal(r.StateDir, "wg0")
	if err != nil {
		t.Fatal(err)
	}
	want := parse(t, changed)
	peers, _ := mergePeers(want)
	if len(j.Applied.Peers) != len(peers) {
		t.Fatalf("read back %d peers, want %d", len(j.Applied.Peers), len(peers))
	}
	for _, p := range j.Applied.Peers {
		if p.PublicKey == peers[5].Key.String() && (len(p.AllowedIPs) != 1 || p.AllowedIPs[0].String() != "10.99.5.0/24") {
			t.Errorf("peer 5 read back as %+v", p)
		}
	}
}

// TestAppliedLog: the log of the applied state survives what a kill can
// leave and stays bounded: bytes past the committed length (a writer
// killed mid-append) are ignored when read and cut by the next append; a
// log grown past twice its base is written afresh under the next
// generation and the old file removed; after every reload what is read
// back is what a fresh up of the same file records.
func TestAppliedLog(t *testing.T) {
	r := newReloadEnv(t)
	base := testKeys.Replace(reloadBase)
	r.up(t, base)
	jp := journalPath(r.StateDir, "wg0")
	want := func() string { return r.applied(t) }
	first := want()

	// A killed append: garbage after the committed bytes.
	f, err := os.OpenFile(logPath(jp, 1), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"del_peer":"` + publicOf(testKey(0xA0)) + `"}` + "\n{\"peer\":{tor")
	f.Close()
	if got := want(); got != first {
		t.Fatalf("an uncommitted tail was read:\n%s\nwant\n%s", got, first)
	}

	// Many reloads between two files: the log is compacted now and then.
	other := edit(base, "AllowedIPs = 10.1.0.0/16=>AllowedIPs = 10.9.0.0/16")
	fresh := newReloadEnv(t)
	fresh.up(t, other)
	wantOther := fresh.applied(t)
	gens := map[int]bool{}
	for i := range 400 {
		text := base
		if i%2 == 0 {
			text = other
		}
		if err := r.Reload(context.Background(), "wg0", parse(t, text), ReloadOptions{}); err != nil {
			t.Fatal(err)
		}
		got, w := want(), first
		if i%2 == 0 {
			w = wantOther
		}
		if got != w {
			t.Fatalf("reload %d read back\n%s\nwant\n%s", i, got, w)
		}
		files := logFiles(jp)
		if len(files) != 1 {
			t.Fatalf("reload %d: log files %v, want one", i, files)
		}
		for g := range files {
			gens[g] = true
		}
	}
	if len(gens) < 2 {
		t.Errorf("400 reloads never compacted the log (generations %v)", gens)
	}
	// Down removes the log with the journal.
	if err := r.Down(context.Background(), "wg0", parse(t, base), ""); err != nil {
		t.Fatal(err)
	}
	if files := logFiles(jp); len(files) != 0 {
		t.Errorf("after down: %v", files)
	}
}

// TestJournalLegacyDNS: a journal written before the DNS record was
// structured (each command's words joined with NULs) is read into the
// structured form, and down runs its commands.
func TestJournalLegacyDNS(t *testing.T) {
	r := newReloadEnv(t)
	legacy := `{"interface": "wg0", "complete": true, "undo": [{"kind": "link"}, {"kind": "dns", "dns_unset": ["resolvconf\u0000-d\u0000wg0\u0000-f"]}]}`
	if err := os.WriteFile(journalPath(r.StateDir, "wg0"), []byte(legacy), 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := loadJournal(r.StateDir, "wg0")
	if err != nil {
		t.Fatal(err)
	}
	want := []Undo{{Kind: UndoLink}, {Kind: UndoDNS, DNSUndo: []Command{{Name: "resolvconf", Args: []string{"-d", "wg0", "-f"}}}}}
	if diff := cmp.Diff(want, j.Undo); diff != "" {
		t.Fatalf("records (-want +got):\n%s", diff)
	}
	r.rc.records["wg0"] = "nameserver 10.0.0.53\n"
	if err := r.Down(context.Background(), "wg0", parse(t, testKeys.Replace(reloadBase)), ""); err != nil {
		t.Fatalf("down: %v\n%s", err, r.stderr)
	}
	if _, ok := r.rc.records["wg0"]; ok || !strings.Contains(r.stderr.String(), "[#] resolvconf -d wg0 -f\n") {
		t.Errorf("the DNS record was not removed:\n%s", r.stderr)
	}
}
