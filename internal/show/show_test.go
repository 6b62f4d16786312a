package show

import (
	"bytes"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenText renders every rendering of d at now, each after a
// "-- section --" header line.
func goldenText(t *testing.T, d *wgtypes.Device, now time.Time) string {
	t.Helper()
	var b strings.Builder
	for _, r := range renderings() {
		b.WriteString("-- " + r.section() + " --\n")
		b.WriteString(render(t, r, d, now))
	}
	return b.String()
}

// TestGolden compares every rendering of every test device with
// testdata/NAME.golden. The reference tests check these renderings against
// the reference wg(8); run with -update to rewrite the files.
func TestGolden(t *testing.T) {
	for _, c := range deviceCases() {
		t.Run(c.name, func(t *testing.T) {
			got := goldenText(t, c.build(goldenNow), goldenNow)
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden file (run with -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("unexpected output for %s (-want +got):\n%s", path, diff)
			}
		})
	}
}

// TestPrettySpecExample checks the observed example of the spec, §3.1,
// literally.
func TestPrettySpecExample(t *testing.T) {
	const want = `interface: wgspecfake
  public key: 3yTQB4Q6EGIa3CLUJ2ktJEM7xD9fAYbL4C8kYksNMWU=
  private key: aOCxyXSwWcU7AoP6C+pqyODp8wy/Va52eXkBK7RwBEY=
  listening port: 51820
  fwmark: 0xffffffff

peer: 0cbDt5yMjuMyD0q5ftvaQawrmOcX2OAbauptaHriUDg=
  allowed ips: 0.0.0.0/0
  latest handshake: Now
  transfer: 4547.47 TiB received, 1.00 MiB sent
  persistent keepalive: every 1 minute

peer: OEfCPSmZFIIELwKhT/4P7cUrOpiv22FBWjTPFqa/snI=
  endpoint: [fe80::1%lo]:51820
  allowed ips: 10.0.0.0/8, fd00::/8
  latest handshake: 1 minute, 40 seconds ago
  transfer: 1.00 KiB received, 1023 B sent
  persistent keepalive: every 18 hours, 12 minutes, 15 seconds

peer: NTCOcI1uf5kIdzF4lyS4bLPEEn+OA5FZfz4IfeArMRo=
  preshared key: IvEUBuDLLz560WN3EvfydteLnbl+qDmaJTZDEwo0WH8=
  endpoint: 1.2.3.4:5
  allowed ips: (none)
  latest handshake: 1 year, 1 day, 1 hour, 1 minute, 1 second ago
  transfer: 1024.00 MiB received, 1.00 TiB sent
  persistent keepalive: every 1 second

peer: GK/lRANVWN55ZTl04n2JYxY7Ys0sfQmdzw5HUPeHHX4=
  allowed ips: (none)
`
	var b bytes.Buffer
	if err := Pretty(&b, deviceCases()[0].build(goldenNow), Options{Now: goldenNow}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("unexpected pretty output (-want +got):\n%s", diff)
	}
}

func TestPrettyColorBytes(t *testing.T) {
	d := &wgtypes.Device{
		Name: "wg0",
		Peers: []wgtypes.Peer{{
			AllowedIPs:        []net.IPNet{ipNet("10.0.0.0/8"), ipNet("fd00::/8")},
			LastHandshakeTime: at(goldenNow, 1, 0),
			ReceiveBytes:      1024,
		}},
	}
	const (
		esc = "\x1b["
		key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	)
	want := esc + "0m" +
		esc + "32m" + esc + "1minterface" + esc + "0m: " + esc + "32mwg0" + esc + "0m\n" +
		"\n" +
		esc + "33m" + esc + "1mpeer" + esc + "0m: " + esc + "33m" + key + esc + "0m\n" +
		"  " + esc + "1mallowed ips" + esc + "0m: " +
		"10.0.0.0" + esc + "36m/" + esc + "0m8, fd00::" + esc + "36m/" + esc + "0m8\n" +
		"  " + esc + "1mlatest handshake" + esc + "0m: (" + esc + "31mSystem clock wound backward; connection problems may ensue." + esc + "0m)\n" +
		"  " + esc + "1mtransfer" + esc + "0m: 1.00 " + esc + "36mKiB" + esc + "0m received, 0 " + esc + "36mB" + esc + "0m sent\n"
	var b bytes.Buffer
	if err := Pretty(&b, d, Options{Color: true, Now: goldenNow}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("unexpected colour output (-want +got):\n%s", diff)
	}
}

func TestFields(t *testing.T) {
	want := []string{
		"public-key", "private-key", "listen-port", "fwmark", "peers",
		"preshared-keys", "endpoints", "allowed-ips", "latest-handshakes",
		"transfer", "persistent-keepalive", "dump",
	}
	got := Fields()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unexpected fields (-want +got):\n%s", diff)
	}
	got[0] = "changed"
	if Fields()[0] != "public-key" {
		t.Error("Fields returned its internal slice")
	}
}

func TestFieldInvalid(t *testing.T) {
	d := deviceCases()[0].build(goldenNow)
	for _, field := range []string{"", "Dump", "peer", "interfaces", "public-key "} {
		t.Run(field, func(t *testing.T) {
			var b bytes.Buffer
			err := Field(&b, d, field, true)
			if !errors.Is(err, ErrInvalidField) {
				t.Errorf("Field(%q) error = %v, want ErrInvalidField", field, err)
			}
			if b.Len() != 0 {
				t.Errorf("Field(%q) wrote %q, want nothing", field, b.String())
			}
		})
	}
}

func TestInterfaces(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  string
	}{
		{name: "none", names: nil, want: ""},
		{name: "one", names: []string{"wg0"}, want: "wg0\n"},
		{name: "several", names: []string{"wg1", "wg0", "x"}, want: "wg1 wg0 x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Interfaces(&b, tt.names); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("unexpected output (-want +got):\n%s", diff)
			}
		})
	}
}

// failWriter fails every write.
type failWriter struct{}

var errWrite = errors.New("disk on fire")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWriteErrors(t *testing.T) {
	d := deviceCases()[0].build(goldenNow)
	tests := []struct {
		name string
		run  func() error
	}{
		{"pretty", func() error { return Pretty(failWriter{}, d, Options{}) }},
		{"field", func() error { return Field(failWriter{}, d, "dump", false) }},
		{"interfaces", func() error { return Interfaces(failWriter{}, []string{"wg0"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, errWrite) {
				t.Errorf("error = %v, want one wrapping %v", err, errWrite)
			}
		})
	}
}

func Test_sortedPeers(t *testing.T) {
	now := goldenNow
	peers := []wgtypes.Peer{
		{PublicKey: seedKey("never"), LastHandshakeTime: time.Time{}},
		{PublicKey: seedKey("old"), LastHandshakeTime: at(now, -100, 0)},
		{PublicKey: seedKey("epoch"), LastHandshakeTime: time.Unix(0, 0)},
		{PublicKey: seedKey("new"), LastHandshakeTime: at(now, 0, 0)},
		{PublicKey: seedKey("old, later ns"), LastHandshakeTime: at(now, -100, 1)},
		{PublicKey: seedKey("nanosecond after epoch"), LastHandshakeTime: time.Unix(0, 1)},
		{PublicKey: seedKey("old too"), LastHandshakeTime: at(now, -100, 0)},
		{PublicKey: seedKey("never either"), LastHandshakeTime: time.Time{}},
	}
	want := []string{"new", "old, later ns", "old", "old too", "nanosecond after epoch", "never", "epoch", "never either"}
	byKey := map[wgtypes.Key]string{}
	for _, s := range want {
		byKey[seedKey(s)] = s
	}
	var got []string
	for _, p := range sortedPeers(peers) {
		got = append(got, byKey[p.PublicKey])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unexpected order (-want +got):\n%s", diff)
	}
}
