package config

import (
	"bufio"
	"bytes"
	"io"
	"iter"
	"strconv"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/keys"
)

// Showconf renders c as `wg showconf` prints a device: [Interface] with
// ListenPort, FwMark and PrivateKey (each only when set and non-zero), one
// blank line, then the peers separated by blank lines, their keys in a
// fixed order. wg-quick's own fields are not printed. The text is valid
// input for ParseWG.
func Showconf(c *Config) []byte {
	var b bytes.Buffer
	writeShowconf(&b, &c.Interface, c.peers())
	return b.Bytes()
}

// WriteShowconf writes Showconf's text to w as it is produced, in writes of
// 32 KiB: the text of 10,000 peers is never held whole (growing one buffer
// to a megabyte was a fifth of `wg showconf`'s time).
func WriteShowconf(w io.Writer, c *Config) error {
	return WriteShowconfPeers(w, &c.Interface, c.peers())
}

// WriteShowconfPeers is WriteShowconf for peers that come one at a time,
// each valid only until the next: `wg showconf` converts a device's peers
// into one Peer it reuses, so that 10,000 peers are never held twice (the
// converted copy was 2.3 MB to touch, a tenth of the command).
func WriteShowconfPeers(w io.Writer, ifc *Interface, peers iter.Seq[*Peer]) error {
	b := bufio.NewWriterSize(w, 32<<10)
	writeShowconf(b, ifc, peers)
	return b.Flush()
}

// peers yields c's peers in order.
func (c *Config) peers() iter.Seq[*Peer] {
	return func(yield func(*Peer) bool) {
		for i := range c.Peers {
			if !yield(&c.Peers[i]) {
				return
			}
		}
	}
}

// textWriter is what the formatters write to: a bytes.Buffer or a
// bufio.Writer, both of which never fail mid-way (a bufio.Writer keeps its
// first error for Flush).
type textWriter interface {
	io.Writer
	io.StringWriter
	io.ByteWriter
	AvailableBuffer() []byte
}

func writeShowconf(b textWriter, ifc *Interface, peers iter.Seq[*Peer]) {
	b.WriteString("[Interface]\n")
	if ifc.ListenPort != nil && *ifc.ListenPort != 0 {
		b.WriteString("ListenPort = " + strconv.Itoa(*ifc.ListenPort) + "\n")
	}
	if ifc.FwMark != nil && *ifc.FwMark != 0 {
		b.WriteString("FwMark = 0x" + strconv.FormatUint(uint64(*ifc.FwMark), 16) + "\n")
	}
	if present(ifc.PrivateKey) {
		writeKey(b, "PrivateKey", ifc.PrivateKey)
	}
	b.WriteByte('\n')
	first := true
	for p := range peers {
		// Peers are separated by a blank line; none follows the last.
		if !first {
			b.WriteByte('\n')
		}
		first = false
		b.WriteString("[Peer]\n")
		// Public keys are not secret: the standard encoder, not the
		// constant-time one (10,000 peers).
		b.WriteString("PublicKey = ")
		b.Write(keys.AppendPublic(b.AvailableBuffer(), p.PublicKey))
		b.WriteByte('\n')
		if present(p.PresharedKey) {
			writeKey(b, "PresharedKey", p.PresharedKey)
		}
		if len(p.AllowedIPs) > 0 {
			b.WriteString("AllowedIPs = ")
			for j, a := range p.AllowedIPs {
				if j > 0 {
					b.WriteString(", ")
				}
				b.Write(appendPrefix(b.AvailableBuffer(), a.Prefix))
			}
			b.WriteByte('\n')
		}
		if p.Endpoint != nil {
			b.WriteString("Endpoint = ")
			b.Write(p.Endpoint.appendTo(b.AvailableBuffer()))
			b.WriteByte('\n')
		}
		if p.PersistentKeepalive != nil && *p.PersistentKeepalive != 0 {
			b.WriteString("PersistentKeepalive = " + strconv.Itoa(*p.PersistentKeepalive) + "\n")
		}
	}
}

// present reports whether a key would be reported by a device: set and not
// all zeros (a zero private or preshared key means "none").
func present(k *wgtypes.Key) bool {
	return k != nil && *k != (wgtypes.Key{})
}

func writeKey(b textWriter, name string, k *wgtypes.Key) {
	b.WriteString(name + " = " + keys.Encode(*k) + "\n")
}

// Save renders the file `wg-quick save` (and SaveConfig on down) writes: an
// [Interface] block with wg-quick's fields (Address, DNS servers, MTU when
// set, Table when set, SaveConfig when true, then the hooks in the order
// PreUp, PostUp, PreDown, PostDown, as written) followed by the showconf
// text of the device. c carries the live state: its Addresses are the
// interface's addresses, its MTU the link's (or 0 when the file had none).
//
// wg-quick builds this by substituting into the output of `wg showconf`
// captured with $(...), which drops trailing newlines, and writes it with
// echo, which adds one: the file always ends in exactly one newline, and
// search domains and comments are not kept.
func Save(c *Config) []byte {
	ifc := &c.Interface
	var b bytes.Buffer
	b.WriteString("[Interface]\n")
	for _, a := range ifc.Addresses {
		b.WriteString("Address = " + formatPrefix(a) + "\n")
	}
	for _, a := range ifc.DNS {
		b.WriteString("DNS = " + formatAddr(a) + "\n")
	}
	if ifc.MTU != 0 {
		b.WriteString("MTU = " + strconv.Itoa(ifc.MTU) + "\n")
	}
	if ifc.Table != "" {
		b.WriteString("Table = " + ifc.Table + "\n")
	}
	if ifc.SaveConfig {
		b.WriteString("SaveConfig = true\n")
	}
	for _, hooks := range []struct {
		key  string
		cmds []string
	}{{"PreUp", ifc.PreUp}, {"PostUp", ifc.PostUp}, {"PreDown", ifc.PreDown}, {"PostDown", ifc.PostDown}} {
		for _, cmd := range hooks.cmds {
			b.WriteString(hooks.key + " = " + cmd + "\n")
		}
	}
	var current bytes.Buffer
	writeShowconf(&current, ifc, c.peers())
	// ${current/\[Interface\]$'\n'/$block}: a device with nothing to show
	// prints only "[Interface]", which has no newline left to match, and
	// then the block is not inserted at all. We keep that quirk.
	out := bytes.Replace(bytes.TrimRight(current.Bytes(), "\n"), []byte("[Interface]\n"), b.Bytes(), 1)
	return append(out, '\n')
}
