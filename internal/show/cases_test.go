package show

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// goldenNow is the fixed "current time" of the golden files.
var goldenNow = time.Unix(1_700_000_000, 0)

// deviceCase is a device used by the golden tests and the reference tests.
// build makes the device as seen at now; handshake times are relative to
// now, so pretty output (which prints ages) does not depend on it.
type deviceCase struct {
	name  string // golden file name
	build func(now time.Time) *wgtypes.Device
}

// mustKey parses a base64 key or panics.
func mustKey(s string) wgtypes.Key {
	k, err := wgtypes.ParseKey(s)
	if err != nil {
		panic(err)
	}
	return k
}

// seedKey returns a deterministic key derived from seed.
func seedKey(seed string) wgtypes.Key {
	return wgtypes.Key(sha256.Sum256([]byte(seed)))
}

// withKey gives d the private key priv and the matching public key, which is
// how both the kernel and UAPI report a device's keys.
func withKey(d *wgtypes.Device, priv wgtypes.Key) *wgtypes.Device {
	d.PrivateKey = priv
	d.PublicKey = priv.PublicKey()
	return d
}

// ipNet parses a CIDR the way wgctrl's UAPI parser does (net.ParseCIDR: a
// 4-byte IP and mask for IPv4).
func ipNet(s string) net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return *n
}

// ipNet16 is ipNet with the IP in 16-byte form but the mask still 4 bytes
// for IPv4, which the renderer must still treat as IPv4.
func ipNet16(s string) net.IPNet {
	n := ipNet(s)
	n.IP = n.IP.To16()
	return n
}

// udp4 returns an IPv4 endpoint with a 4-byte IP.
func udp4(ip string, port int) *net.UDPAddr {
	return &net.UDPAddr{IP: net.ParseIP(ip).To4(), Port: port}
}

// udp6 returns an IPv6 endpoint with a 16-byte IP, even for an
// IPv4-mapped address.
func udp6(ip, zone string, port int) *net.UDPAddr {
	return &net.UDPAddr{IP: net.ParseIP(ip).To16(), Port: port, Zone: zone}
}

// at returns now shifted by offset seconds, at whole seconds plus nsec.
func at(now time.Time, offset, nsec int64) time.Time {
	return time.Unix(now.Unix()+offset, nsec)
}

const year = 365 * 24 * 3600

// deviceCases returns the devices of the golden and reference tests.
func deviceCases() []deviceCase {
	return []deviceCase{
		{
			// The observed example of the spec, §3.1, in the order the
			// device returned the peers.
			name: "example",
			build: func(now time.Time) *wgtypes.Device {
				return withKey(&wgtypes.Device{
					Name:         "wgspecfake",
					ListenPort:   51820,
					FirewallMark: 0xffffffff,
					Peers: []wgtypes.Peer{
						{
							PublicKey:                   mustKey("OEfCPSmZFIIELwKhT/4P7cUrOpiv22FBWjTPFqa/snI="),
							Endpoint:                    udp6("fe80::1", "lo", 51820),
							AllowedIPs:                  []net.IPNet{ipNet("10.0.0.0/8"), ipNet("fd00::/8")},
							LastHandshakeTime:           at(now, -100, 0),
							ReceiveBytes:                1024,
							TransmitBytes:               1023,
							PersistentKeepaliveInterval: 65535 * time.Second,
						},
						{
							PublicKey:                   mustKey("NTCOcI1uf5kIdzF4lyS4bLPEEn+OA5FZfz4IfeArMRo="),
							PresharedKey:                mustKey("IvEUBuDLLz560WN3EvfydteLnbl+qDmaJTZDEwo0WH8="),
							Endpoint:                    udp4("1.2.3.4", 5),
							LastHandshakeTime:           at(now, -31626061, 0),
							ReceiveBytes:                1073741823,
							TransmitBytes:               1 << 40,
							PersistentKeepaliveInterval: time.Second,
						},
						{
							PublicKey: mustKey("GK/lRANVWN55ZTl04n2JYxY7Ys0sfQmdzw5HUPeHHX4="),
						},
						{
							PublicKey:                   mustKey("0cbDt5yMjuMyD0q5ftvaQawrmOcX2OAbauptaHriUDg="),
							AllowedIPs:                  []net.IPNet{ipNet("0.0.0.0/0")},
							LastHandshakeTime:           at(now, 0, 0),
							ReceiveBytes:                5e15,
							TransmitBytes:               1 << 20,
							PersistentKeepaliveInterval: time.Minute,
						},
					},
				}, mustKey("aOCxyXSwWcU7AoP6C+pqyODp8wy/Va52eXkBK7RwBEY="))
			},
		},
		{
			// No private key (so no public key either) and no peers.
			name: "nokey",
			build: func(time.Time) *wgtypes.Device {
				return &wgtypes.Device{Name: "wgnokey", ListenPort: 51821}
			},
		},
		{
			// A key, but no port or fwmark, and a peer with nothing but
			// its public key.
			name: "barepeer",
			build: func(time.Time) *wgtypes.Device {
				return withKey(&wgtypes.Device{
					Name:  "wgbare",
					Peers: []wgtypes.Peer{{PublicKey: seedKey("bare peer")}},
				}, seedKey("bare"))
			},
		},
		{
			// Address and endpoint formatting.
			name: "addresses",
			build: func(now time.Time) *wgtypes.Device {
				return withKey(&wgtypes.Device{
					Name:         "wgaddr",
					ListenPort:   1,
					FirewallMark: 0x1234,
					Peers: []wgtypes.Peer{
						{
							PublicKey: seedKey("mapped"),
							Endpoint:  udp6("::ffff:1.2.3.4", "", 5),
							AllowedIPs: []net.IPNet{
								ipNet("::1.2.3.4/128"),
								ipNet("::ffff:1.2.3.4/128"),
								ipNet16("10.0.0.0/8"),
								ipNet("::0.1.0.2/128"),
								ipNet("::0.0.1.2/128"),
							},
						},
						{
							PublicKey: seedKey("scoped"),
							Endpoint:  udp6("fe80::1", "lo", 51820),
							AllowedIPs: []net.IPNet{
								ipNet("64:ff9b::102:304/128"),
								ipNet("1:0:0:1:0:0:1:0/128"),
								ipNet("fe80::/64"),
								ipNet("::/0"),
								ipNet("2001:db8:0:0:1::/80"),
							},
						},
						{
							PublicKey:  seedKey("v6"),
							Endpoint:   udp6("2001:db8::1", "", 65535),
							AllowedIPs: []net.IPNet{ipNet("0.0.0.0/0"), ipNet("192.168.1.1/32"), ipNet("::1/128")},
						},
						{
							PublicKey: seedKey("v4"),
							Endpoint:  udp4("192.0.2.1", 51820),
						},
						{
							PublicKey:  seedKey("port zero"),
							Endpoint:   udp4("255.255.255.255", 0),
							AllowedIPs: []net.IPNet{ipNet("172.16.0.0/12")},
						},
					},
				}, seedKey("addresses"))
			},
		},
		{
			// Handshake ages, sorting and keepalive durations.
			name: "times",
			build: func(now time.Time) *wgtypes.Device {
				peer := func(seed string, hs time.Time, keepalive time.Duration) wgtypes.Peer {
					return wgtypes.Peer{
						PublicKey:                   seedKey(seed),
						LastHandshakeTime:           hs,
						PersistentKeepaliveInterval: keepalive,
					}
				}
				return withKey(&wgtypes.Device{
					Name:       "wgtimes",
					ListenPort: 65535,
					Peers: []wgtypes.Peer{
						peer("never", time.Time{}, 25*time.Second),
						peer("100s ago", at(now, -100, 0), 3600*time.Second),
						peer("future", at(now, 3600, 0), 3661*time.Second),
						peer("now", at(now, 0, 999999999), 7322*time.Second),
						peer("2 years 1 second", at(now, -2*year-1, 0), 2*time.Second),
						peer("100s ago, later in the second", at(now, -100, 500), 0),
						peer("epoch plus 5ns", time.Unix(0, 5), 0),
						peer("100s ago too", at(now, -100, 0), 0),
						peer("1 day 1 hour 1 minute 1 second", at(now, -90061, 0), 0),
						peer("2 days", at(now, -172800, 0), 0),
						peer("never either", time.Unix(0, 0), 0),
						peer("1 second", at(now, -1, 0), 0),
					},
				}, seedKey("times"))
			},
		},
		{
			// Byte counter boundaries.
			name: "counters",
			build: func(now time.Time) *wgtypes.Device {
				peer := func(seed string, rx, tx uint64) wgtypes.Peer {
					return wgtypes.Peer{
						PublicKey:     seedKey(seed),
						ReceiveBytes:  int64(rx),
						TransmitBytes: int64(tx),
					}
				}
				return withKey(&wgtypes.Device{
					Name: "wgbytes",
					Peers: []wgtypes.Peer{
						peer("B/KiB", 1023, 1024),
						peer("KiB/MiB", 1048575, 1048576),
						peer("MiB/GiB", 1073741823, 1073741824),
						peer("GiB/TiB", 1<<40-1, 1<<40),
						peer("huge", 5e15, 1<<64-1),
						peer("ties", 1152, 1408),
						peer("tx only", 0, 148),
						peer("rx only", 1, 0),
						peer("none", 0, 0),
					},
				}, seedKey("counters"))
			},
		},
		{
			// An interface name containing an escape sequence, which
			// non-colour pretty output strips.
			name: "escname",
			build: func(time.Time) *wgtypes.Device {
				return withKey(&wgtypes.Device{
					Name:  "e\x1b[7mX1",
					Peers: []wgtypes.Peer{{PublicKey: seedKey("esc peer")}},
				}, seedKey("escname"))
			},
		},
		{
			// An escape sequence left open at the end of the name eats the
			// reset that follows it, up to its letter.
			name: "escopen",
			build: func(time.Time) *wgtypes.Device {
				return &wgtypes.Device{Name: "u\x1b[9", ListenPort: 7}
			},
		},
		{
			// A userspace device whose name is longer than IFNAMSIZ-1: wg
			// prints only the first 15 bytes.
			name: "longname",
			build: func(time.Time) *wgtypes.Device {
				return &wgtypes.Device{
					Name:  "wgshowlongname1234",
					Peers: []wgtypes.Peer{{PublicKey: seedKey("long peer")}},
				}
			},
		},
	}
}

// rendering is one way of showing a device: pretty (field "") or one
// field, with or without the interface name prefix.
type rendering struct {
	field    string
	withName bool
	color    bool
	hide     bool
}

// section names the rendering in golden files.
func (r rendering) section() string {
	if r.field == "" {
		s := "pretty"
		if r.color {
			s += " color"
		}
		if r.hide {
			s += " hidden"
		}
		return s
	}
	if r.withName {
		return "all " + r.field
	}
	return r.field
}

// timeDependent reports whether the output contains absolute handshake
// times, and so depends on when the device was built.
func (r rendering) timeDependent() bool {
	return r.field == "latest-handshakes" || r.field == "dump"
}

// renderings returns every rendering of the golden files.
func renderings() []rendering {
	var rs []rendering
	for _, color := range []bool{false, true} {
		for _, hide := range []bool{false, true} {
			rs = append(rs, rendering{color: color, hide: hide})
		}
	}
	for _, withName := range []bool{false, true} {
		for _, f := range Fields() {
			rs = append(rs, rendering{field: f, withName: withName})
		}
	}
	return rs
}

// render shows d as r at now.
func render(t *testing.T, r rendering, d *wgtypes.Device, now time.Time) string {
	t.Helper()
	var b bytes.Buffer
	var err error
	if r.field == "" {
		err = Pretty(&b, d, Options{Color: r.color, HideKeys: r.hide, Now: now})
	} else {
		err = Field(&b, d, r.field, r.withName)
	}
	if err != nil {
		t.Fatalf("rendering %s: %v", r.section(), err)
	}
	return b.String()
}

// uapiText returns the reply of a userspace device in the state d to
// "get=1", as the reference wg parses it (ipc-uapi.h). Like wireguard-go it
// always sends preshared_key, zero when there is none.
func uapiText(d *wgtypes.Device) string {
	var b strings.Builder
	if d.PrivateKey != (wgtypes.Key{}) {
		fmt.Fprintf(&b, "private_key=%x\n", d.PrivateKey[:])
	}
	fmt.Fprintf(&b, "listen_port=%d\n", d.ListenPort)
	if d.FirewallMark != 0 {
		fmt.Fprintf(&b, "fwmark=%d\n", uint32(d.FirewallMark))
	}
	for _, p := range d.Peers {
		fmt.Fprintf(&b, "public_key=%x\n", p.PublicKey[:])
		fmt.Fprintf(&b, "preshared_key=%x\n", p.PresharedKey[:])
		if e := p.Endpoint; e != nil {
			if len(e.IP) == net.IPv4len {
				fmt.Fprintf(&b, "endpoint=%s:%d\n", e.IP, e.Port)
			} else {
				host := netip.AddrFrom16([16]byte(e.IP)).String()
				if e.Zone != "" {
					host += "%" + e.Zone
				}
				fmt.Fprintf(&b, "endpoint=[%s]:%d\n", host, e.Port)
			}
		}
		fmt.Fprintf(&b, "persistent_keepalive_interval=%d\n", p.PersistentKeepaliveInterval/time.Second)
		for _, n := range p.AllowedIPs {
			ones, _ := n.Mask.Size()
			var host string
			if len(n.Mask) == net.IPv4len {
				host = n.IP.To4().String()
			} else {
				host = netip.AddrFrom16([16]byte(n.IP.To16())).String()
			}
			fmt.Fprintf(&b, "allowed_ip=%s/%d\n", host, ones)
		}
		var sec, nsec int64
		if !p.LastHandshakeTime.IsZero() {
			sec, nsec = p.LastHandshakeTime.Unix(), int64(p.LastHandshakeTime.Nanosecond())
		}
		fmt.Fprintf(&b, "last_handshake_time_sec=%d\nlast_handshake_time_nsec=%d\n", sec, nsec)
		fmt.Fprintf(&b, "rx_bytes=%d\ntx_bytes=%d\n", uint64(p.ReceiveBytes), uint64(p.TransmitBytes))
	}
	b.WriteString("errno=0\n\n")
	return b.String()
}
