package show

import (
	"encoding/json"
	"io"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/keys"
)

// JSONVersion is the version of the JSON schema below. It changes only when
// a field is removed or changes meaning; new fields may be added without a
// change.
const JSONVersion = 1

// JSONDocument is what `wg show [IF|all] json` prints: one object holding
// every interface shown, so that one invocation is one parseable document.
//
// Keys are base64 as everywhere in wg. Secret keys (private_key,
// preshared_key) appear only when WG_HIDE_KEYS=never, as in the pretty form;
// has_private_key and has_preshared_key say whether they exist. A peer that
// never completed a handshake has latest_handshake null and
// latest_handshake_unix 0. Absent values are null, never "(none)".
type JSONDocument struct {
	Version    int             `json:"version"`
	Interfaces []JSONInterface `json:"interfaces"`
}

// JSONInterface is one interface of a JSONDocument.
type JSONInterface struct {
	Name          string     `json:"name"`
	PublicKey     *string    `json:"public_key"`
	HasPrivateKey bool       `json:"has_private_key"`
	PrivateKey    *string    `json:"private_key,omitempty"`
	ListenPort    int        `json:"listen_port"`
	FwMark        uint32     `json:"fwmark"`
	Peers         []JSONPeer `json:"peers"`
}

// JSONPeer is one peer of a JSONInterface.
type JSONPeer struct {
	PublicKey           string     `json:"public_key"`
	HasPresharedKey     bool       `json:"has_preshared_key"`
	PresharedKey        *string    `json:"preshared_key,omitempty"`
	Endpoint            *string    `json:"endpoint"`
	AllowedIPs          []string   `json:"allowed_ips"`
	LatestHandshake     *time.Time `json:"latest_handshake"`
	LatestHandshakeUnix int64      `json:"latest_handshake_unix"`
	TransferRx          uint64     `json:"transfer_rx"`
	TransferTx          uint64     `json:"transfer_tx"`
	PersistentKeepalive int        `json:"persistent_keepalive"`
}

// JSON writes the devices as one JSONDocument, indented, with a newline.
// Peers keep the device's order.
func JSON(w io.Writer, devs []*wgtypes.Device, opts Options) error {
	doc := JSONDocument{Version: JSONVersion, Interfaces: make([]JSONInterface, 0, len(devs))}
	for _, d := range devs {
		ji := JSONInterface{Name: d.Name, ListenPort: int(uint16(d.ListenPort)), FwMark: uint32(d.FirewallMark), Peers: make([]JSONPeer, 0, len(d.Peers))}
		if hasKey(d.PrivateKey) {
			pub := keys.Encode(d.PublicKey)
			ji.PublicKey, ji.HasPrivateKey = &pub, true
			if !opts.HideKeys {
				priv := keys.Encode(d.PrivateKey)
				ji.PrivateKey = &priv
			}
		}
		for i := range d.Peers {
			p := &d.Peers[i]
			jp := JSONPeer{
				PublicKey:           keys.Encode(p.PublicKey),
				AllowedIPs:          make([]string, 0, len(p.AllowedIPs)),
				TransferRx:          uint64(p.ReceiveBytes),
				TransferTx:          uint64(p.TransmitBytes),
				PersistentKeepalive: int(keepalive(p)),
			}
			if hasKey(p.PresharedKey) {
				jp.HasPresharedKey = true
				if !opts.HideKeys {
					psk := keys.Encode(p.PresharedKey)
					jp.PresharedKey = &psk
				}
			}
			if ep, ok := endpointString(p.Endpoint); ok {
				jp.Endpoint = &ep
			}
			for _, ip := range allowedIPs(p.AllowedIPs) {
				jp.AllowedIPs = append(jp.AllowedIPs, ip.addr+"/"+ip.cidr)
			}
			if sec, nsec := handshake(p); sec != 0 || nsec != 0 {
				t := time.Unix(sec, nsec).UTC()
				jp.LatestHandshake, jp.LatestHandshakeUnix = &t, sec
			}
			ji.Peers = append(ji.Peers, jp)
		}
		doc.Interfaces = append(doc.Interfaces, ji)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
