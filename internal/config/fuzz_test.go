package config

import (
	"bytes"
	"testing"
)

// FuzzParseQuick checks, for any input, that parsing never panics and that
// what we print is stable: the showconf text of a parsed file parses back to
// the same text, the save text parses back to the same save text, and the
// wg part of a wg-quick file parses, through strip, to the same device
// configuration as the wg-quick parse found.
func FuzzParseQuick(f *testing.F) {
	f.Add([]byte("[Interface]\nPrivateKey = " + priv1 + "\nAddress = 10.0.0.1/24\nDNS = 10.0.0.53, example.com\nPostUp = echo %i; echo '#'\n[Peer]\nPublicKey = " + pub1 + "\nAllowedIPs = 10.0.0.0/24,fd00::/64\nEndpoint = [fd00::1]:51820\n"))
	f.Add([]byte("[ interface ]\r\nList en Port = domain\r\nFwMark = 0x10\n[PEER]\npublickey=" + pub2 + "\nEndpoint=localhost:1\nAllowedIPs=+10.0.0.7/24\nPersistentKeepalive=off\n"))
	f.Add([]byte("[Interface]\nSaveConfig = TRUE\nTable = off\nMTU = 1420\n[Peer]\nPublicKey=" + pub3 + "\nPresharedKey=" + psk1 + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func([]byte, Options) (*Config, error){ParseWG, ParseQuick} {
			c, err := parse(data, Options{Services: testServices})
			if err != nil {
				continue
			}
			text := Showconf(c)
			c2, err := ParseWG(text, Options{Services: testServices})
			if err != nil {
				t.Fatalf("showconf output does not parse: %v\n%s", err, text)
			}
			if text2 := Showconf(c2); !bytes.Equal(text, text2) {
				t.Fatalf("showconf not stable:\n%q\n%q", text, text2)
			}
			save := Save(c)
			c3, err := ParseQuick(save, Options{Services: testServices})
			if err != nil {
				t.Fatalf("save output does not parse: %v\n%s", err, save)
			}
			if save2 := Save(c3); !bytes.Equal(save, save2) {
				t.Fatalf("save not stable:\n%q\n%q", save, save2)
			}
		}
		c, err := ParseQuick(data, Options{Services: testServices})
		if err != nil {
			return
		}
		stripped, err := Strip(data, Options{})
		if err != nil {
			t.Fatalf("ParseQuick accepted what Strip rejects: %v", err)
		}
		cw, err := ParseWG(stripped, Options{Services: testServices})
		if err != nil {
			t.Fatalf("strip output of a valid file does not parse: %v\n%q", err, stripped)
		}
		if a, b := Showconf(c), Showconf(cw); !bytes.Equal(a, b) {
			t.Fatalf("wg-quick parse and strip+wg parse differ:\n%s\n%s", a, b)
		}
	})
}
