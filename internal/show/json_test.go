package show

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// TestJSONRoundTripDump renders every test device as JSON and as dump and
// checks that the JSON says exactly what the dump says, field by field.
func TestJSONRoundTripDump(t *testing.T) {
	for _, c := range deviceCases() {
		t.Run(c.name, func(t *testing.T) {
			dev := c.build(goldenNow)
			var js, dump bytes.Buffer
			if err := JSON(&js, []*wgtypes.Device{dev}, Options{HideKeys: false, Now: goldenNow}); err != nil {
				t.Fatal(err)
			}
			if err := Field(&dump, dev, "dump", false); err != nil {
				t.Fatal(err)
			}
			var doc JSONDocument
			if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
				t.Fatalf("invalid JSON: %v\n%s", err, js.String())
			}
			if doc.Version != JSONVersion || len(doc.Interfaces) != 1 {
				t.Fatalf("document %+v", doc)
			}
			ji := doc.Interfaces[0]
			lines := strings.Split(strings.TrimSuffix(dump.String(), "\n"), "\n")
			iface := strings.Split(lines[0], "\t")
			none := func(p *string) string {
				if p == nil {
					return "(none)"
				}
				return *p
			}
			mark := "off"
			if ji.FwMark != 0 {
				mark = "0x" + strconv.FormatUint(uint64(ji.FwMark), 16)
			}
			if diff := cmp.Diff(iface, []string{none(ji.PrivateKey), none(ji.PublicKey), strconv.Itoa(ji.ListenPort), mark}); diff != "" {
				t.Errorf("interface line (-dump +json):\n%s", diff)
			}
			if len(lines)-1 != len(ji.Peers) {
				t.Fatalf("%d peers in dump, %d in JSON", len(lines)-1, len(ji.Peers))
			}
			for i, p := range ji.Peers {
				ips := strings.Join(p.AllowedIPs, ",")
				if ips == "" {
					ips = "(none)"
				}
				ka := "off"
				if p.PersistentKeepalive != 0 {
					ka = strconv.Itoa(p.PersistentKeepalive)
				}
				got := []string{p.PublicKey, none(p.PresharedKey), none(p.Endpoint), ips, strconv.FormatInt(p.LatestHandshakeUnix, 10),
					strconv.FormatUint(p.TransferRx, 10), strconv.FormatUint(p.TransferTx, 10), ka}
				if diff := cmp.Diff(strings.Split(lines[i+1], "\t"), got); diff != "" {
					t.Errorf("peer %d (-dump +json):\n%s", i, diff)
				}
				if (p.LatestHandshake == nil) != (p.LatestHandshakeUnix == 0) && p.LatestHandshakeUnix == 0 {
					// A handshake in the first second of 1970 has unix 0
					// and a time; anything else must agree.
					continue
				}
				if p.LatestHandshake != nil && p.LatestHandshake.Unix() != p.LatestHandshakeUnix {
					t.Errorf("peer %d: RFC 3339 %v and unix %d disagree", i, p.LatestHandshake, p.LatestHandshakeUnix)
				}
			}
		})
	}
}

// TestJSONHidesKeys: secret keys only with WG_HIDE_KEYS=never semantics.
func TestJSONHidesKeys(t *testing.T) {
	for _, c := range deviceCases() {
		var js bytes.Buffer
		if err := JSON(&js, []*wgtypes.Device{c.build(goldenNow)}, Options{HideKeys: true, Now: goldenNow}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(js.String(), `"private_key"`) || strings.Contains(js.String(), `"preshared_key"`) {
			t.Errorf("%s: secret key in hidden JSON:\n%s", c.name, js.String())
		}
	}
}

// TestJSONGolden pins the schema on one device.
func TestJSONGolden(t *testing.T) {
	c := deviceCases()[0]
	var js bytes.Buffer
	if err := JSON(&js, []*wgtypes.Device{c.build(goldenNow)}, Options{HideKeys: true, Now: goldenNow}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "json.golden")
	if *update {
		os.WriteFile(path, js.Bytes(), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), js.String()); diff != "" {
		t.Errorf("JSON (-golden +got):\n%s", diff)
	}
}
