package route

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wgtools/wgtools/internal/nettest"
)

// showRule renders r as "ip rule show" prints it.
func showRule(r Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d:\t", r.Priority)
	if r.Invert {
		b.WriteString("not ")
	}
	b.WriteString("from all")
	if r.Mark != 0 {
		fmt.Fprintf(&b, " fwmark %#x", r.Mark)
	}
	fmt.Fprintf(&b, " lookup %s", tableString(r.Table))
	if r.SuppressPrefixlen >= 0 {
		fmt.Fprintf(&b, " suppress_prefixlength %d", r.SuppressPrefixlen)
	}
	return b.String()
}

func TestRules(t *testing.T) {
	ns := nettest.NewNetNS(t)
	m := newTestManager(t, ns)

	// checkRules compares Rules(family) with "ip rule show" and with want.
	checkRules := func(t *testing.T, family int, want []string) {
		t.Helper()
		rules, err := m.Rules(family)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rules {
			got = append(got, showRule(r))
		}
		byIP := lines(ip(t, ns, fmt.Sprintf("-%d", family), "rule", "show"))
		if diff := cmp.Diff(byIP, got); diff != "" {
			t.Errorf("Rules(%d) differ from ip -%d rule show (-ip +got):\n%s", family, family, diff)
		}
		if diff := cmp.Diff(want, byIP); diff != "" {
			t.Errorf("unexpected ip -%d rule show (-want +got):\n%s", family, diff)
		}
	}

	defaults := map[int][]string{
		4: {"0:\tfrom all lookup local", "32766:\tfrom all lookup main", "32767:\tfrom all lookup default"},
		6: {"0:\tfrom all lookup local", "32766:\tfrom all lookup main"},
	}
	for _, family := range []int{4, 6} {
		t.Run(fmt.Sprintf("IPv%d", family), func(t *testing.T) {
			checkRules(t, family, defaults[family])
			// wg-quick's add_default, in upstream's order.
			fwmark := Rule{Family: family, Table: 51820, Mark: 51820, Invert: true, SuppressPrefixlen: -1}
			suppress := Rule{Family: family, Table: TableMain, SuppressPrefixlen: 0}
			for _, r := range []Rule{fwmark, suppress} {
				if err := m.AddRule(r); err != nil {
					t.Fatal(err)
				}
			}
			withWG := append([]string{defaults[family][0],
				"32764:\tfrom all lookup main suppress_prefixlength 0",
				"32765:\tnot from all fwmark 0xca6c lookup 51820",
			}, defaults[family][1:]...)
			checkRules(t, family, withWG)

			// EEXIST only for the same priority.
			dup := fwmark
			dup.Priority = 32765
			if err := m.AddRule(dup); !errors.Is(err, ErrExists) {
				t.Errorf("AddRule of a duplicate with its priority = %v, want ErrExists", err)
			}
			// Without a priority the kernel adds it again, below, as
			// for ip rule add.
			if err := m.AddRule(fwmark); err != nil {
				t.Fatal(err)
			}
			checkRules(t, family, append([]string{withWG[0], "32763:\tnot from all fwmark 0xca6c lookup 51820"}, withWG[1:]...))

			// A given priority picks that rule; none picks the first.
			if err := m.DeleteRule(dup); err != nil {
				t.Fatal(err)
			}
			checkRules(t, family, append([]string{withWG[0], "32763:\tnot from all fwmark 0xca6c lookup 51820", withWG[1]}, withWG[3:]...))
			for _, r := range []Rule{fwmark, suppress} {
				if err := m.DeleteRule(r); err != nil {
					t.Fatal(err)
				}
			}
			checkRules(t, family, defaults[family])
			if err := m.DeleteRule(fwmark); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("DeleteRule of a missing rule = %v, want fs.ErrNotExist", err)
			}
		})
	}

	t.Run("rules Rule cannot describe", func(t *testing.T) {
		ip(t, ns, "rule", "add", "from", "10.0.0.0/8", "table", "51820")
		ip(t, ns, "rule", "add", "fwmark", "0x10/0xff", "table", "51820")
		rules, err := m.Rules(4)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rules {
			got = append(got, showRule(r))
		}
		if diff := cmp.Diff(defaults[4], got); diff != "" {
			t.Errorf("unexpected Rules(4) (-want +got):\n%s", diff)
		}
		if err := m.DeleteRule(NewRule(4, 51820)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("DeleteRule(table 51820) = %v; want fs.ErrNotExist, not deleting a rule with more selectors", err)
		}
		if n := len(lines(ip(t, ns, "rule", "show"))); n != 5 {
			t.Errorf("ip rule show has %d rules, want 5", n)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		for _, r := range []Rule{
			{Family: 5, Table: 1, SuppressPrefixlen: -1},
			{Family: 4, Table: 51820, SuppressPrefixlen: 0}, // the library would drop suppress_prefixlength
			{Family: 4, Table: -1, SuppressPrefixlen: -1},
		} {
			if err := m.AddRule(r); err == nil {
				t.Errorf("AddRule(%+v) succeeded", r)
			}
		}
		if _, err := m.Rules(0); err == nil {
			t.Error("Rules(0) succeeded")
		}
	})
}

func TestSysctlInNamespace(t *testing.T) {
	ns := nettest.NewNetNS(t)
	const key = "net.ipv4.conf.all.src_valid_mark"
	m := &Manager{}
	hostBefore, err := m.ReadSysctl(key)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	err = ns.Do(func() error {
		if err := m.WriteSysctl(key, "1"); err != nil {
			return err
		}
		got, err = m.ReadSysctl(key)
		return err
	})
	if err != nil || got != "1" {
		t.Fatalf("in the namespace: ReadSysctl after WriteSysctl = %q, %v", got, err)
	}
	if out := ns.Run(t, "cat", "/proc/sys/net/ipv4/conf/all/src_valid_mark"); out != "1\n" {
		t.Errorf("the namespace's %s is %q", key, out)
	}
	if hostAfter, err := m.ReadSysctl(key); err != nil || hostAfter != hostBefore {
		t.Errorf("the host's %s changed from %q to %q (%v)", key, hostBefore, hostAfter, err)
	}
}
