package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/nettest"
)

func eqRunCase(t *testing.T, tools eqTools, tc eqCase) {
	refNS, ourNS := nettest.NewNetNS(t), nettest.NewNetNS(t)
	// Each side has its own peer namespace, so that nothing one side sends
	// (handshake initiations, keepalives) can reach the other.
	eqUnderlay(t, refNS, nettest.NewNetNS(t), "peer0")
	eqUnderlay(t, ourNS, nettest.NewNetNS(t), "peer0")
	if tc.setup != nil {
		tc.setup(t, refNS)
		tc.setup(t, ourNS)
	}

	ref := eqNewSide(t, "reference", tools.refQuick, []string{
		"WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go",
		"WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1",
	}, refNS, nettest.UniqueIfName(t, "eqr"))
	ours := eqNewSide(t, "ours", tools.ourQuick, nil, ourNS, nettest.UniqueIfName(t, "eqo"))
	if tc.iptables {
		eqHideNFT(t, ref)
		ours.env = append(ours.env, "WG_QUICK_FIREWALL=iptables")
	}

	config := tc.config
	for _, k := range []string{"{{KEY}}", "{{PEER1}}", "{{PEER2}}", "{{PSK}}"} {
		key, err := wgtypes.GeneratePrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		if k != "{{KEY}}" && k != "{{PSK}}" {
			key = key.PublicKey()
		}
		config = strings.ReplaceAll(config, k, key.String())
	}
	ref.writeConfig(t, config)
	ours.writeConfig(t, config)

	refBefore, ourBefore := eqSnapshot(t, ref), eqSnapshot(t, ours)
	if diff := cmp.Diff(refBefore, ourBefore); diff != "" {
		t.Fatalf("the two namespaces differ before up; the test's setup is broken (-reference +ours):\n%s", diff)
	}

	refUp := ref.mustRun(t, "up")
	ourUp := ours.mustRun(t, "up")
	refAfter, ourAfter := eqSnapshot(t, ref), eqSnapshot(t, ours)
	if diff := cmp.Diff(refAfter, ourAfter); diff != "" {
		t.Errorf("state after up differs from the reference (-reference +ours):\n%s", diff)
	}
	if diff := cmp.Diff(eqReadEffects(t, ref), eqReadEffects(t, ours)); diff != "" {
		t.Errorf("hook files and resolvconf calls after up differ from the reference (-reference +ours):\n%s", diff)
	}
	x := eqContext{config: config, refRules: refAfter, srcValidMarkSet: tc.srcValidMarkSet}
	eqCompareTranscripts(t, "up", refUp, ref, ourUp, ours, x)

	// save (spec 12.12) rewrites each side's file from the live state;
	// ours does so with --canonical (without it, ours edits the file in
	// place). The original file is put back afterwards, so that down runs
	// with the configuration up had and a fault in save cannot hide one in
	// down.
	refSave := ref.mustRun(t, "save")
	ourSave := ours.mustRun(t, "save", "--canonical")
	eqCompareSaved(t, ref, ours, x)
	eqCompareTranscripts(t, "save", refSave, ref, ourSave, ours, x)
	ref.writeConfig(t, config)
	ours.writeConfig(t, config)

	refDown := ref.mustRun(t, "down")
	ourDown := ours.mustRun(t, "down")
	ref.requireGone(t)
	ours.requireGone(t)
	refEnd, ourEnd := eqSnapshot(t, ref), eqSnapshot(t, ours)
	if diff := cmp.Diff(refEnd, ourEnd); diff != "" {
		t.Errorf("state after down differs from the reference (-reference +ours):\n%s", diff)
	}
	for _, side := range []struct {
		s             *eqSide
		before, after eqState
	}{{ref, refBefore, refEnd}, {ours, ourBefore, ourEnd}} {
		// src_valid_mark: wg-quick sets it for a full tunnel and never
		// restores it (spec 12.6.1 step 3), as other tunnels may rely on
		// it; ours does the same.
		if side.before.SrcValidMark != side.after.SrcValidMark {
			t.Logf("%s: src_valid_mark %s before up, %s after down (never restored, as wg-quick)", side.s.label, side.before.SrcValidMark, side.after.SrcValidMark)
			side.after.SrcValidMark = side.before.SrcValidMark
		}
		if tc.iptables {
			// iptables-restore creates the raw and mangle tables with
			// their base chains; deleting the rules leaves them empty,
			// as it does for the reference (and as iptables-legacy's
			// built-in tables always exist).
			side.after.Nftables = eqDropEmptyTables(side.after.Nftables)
		}
		if diff := cmp.Diff(side.before, side.after); diff != "" {
			t.Errorf("%s: state after down differs from the state before up (-before +after):\n%s", side.s.label, diff)
		}
	}
	if diff := cmp.Diff(eqReadEffects(t, ref), eqReadEffects(t, ours)); diff != "" {
		t.Errorf("hook files and resolvconf calls after down differ from the reference (-reference +ours):\n%s", diff)
	}
	eqCompareTranscripts(t, "down", refDown, ref, ourDown, ours, x)
}

// eqCompareTranscripts requires ours's `[#]` transcript to be the
// reference's with the expected differences applied.
func eqCompareTranscripts(t *testing.T, verb, refStderr string, ref *eqSide, ourStderr string, ours *eqSide, x eqContext) {
	t.Helper()
	x.verb = verb
	refLines := eqTranscript(refStderr, ref.normalizer())
	want := slices.Clone(refLines)
	var used []string
	for _, d := range eqDifferences {
		if d.rewrite == nil {
			continue
		}
		var ok bool
		if want, ok = d.rewrite(want, x); ok {
			used = append(used, d.name)
		}
	}
	got := eqTranscript(ourStderr, ours.normalizer())
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wg-quick %s transcript differs from the reference's with the expected differences %q applied (-want +ours):\n%s\nreference transcript:\n%s\nour stderr:\n%s",
			verb, used, diff, strings.Join(refLines, "\n"), ourStderr)
	} else {
		t.Logf("wg-quick %s transcripts equal after the expected differences %q", verb, used)
	}
}

// eqCompareSaved requires the files `wg-quick save` wrote to be the same,
// up to the hook-comments difference: Debian saves the hooks as it ran them,
// without their comments.
func eqCompareSaved(t *testing.T, ref, ours *eqSide, x eqContext) {
	t.Helper()
	read := func(s *eqSide) []string {
		data, err := os.ReadFile(s.conf)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(s.normalizer().showconf(string(data)), "\n")
	}
	want, got := read(ref), read(ours)
	for _, h := range eqHookTexts(x.config) {
		raw := strings.ReplaceAll(h, "{{DIR}}", "$DIR")
		stripped, _, _ := strings.Cut(raw, "#")
		for i, l := range want {
			k, v, ok := strings.Cut(l, " = ")
			if ok && slices.Contains(eqHookKeys, k) && v == strings.TrimSpace(stripped) {
				want[i] = k + " = " + raw
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("file written by save differs from the reference's (-reference +ours):\n%s", diff)
	}
}

// eqContext is what the transcript rewrites need to know about a case.
type eqContext struct {
	verb            string // "up", "save" or "down"
	config          string // the file (with {{DIR}} unexpanded)
	refRules        eqState
	srcValidMarkSet bool
}

// eqDifference is one expected difference between the transcript of the
// installed Debian wg-quick 1.0.20210914 and ours. rewrite turns the
// (normalised) Debian transcript into what ours prints and reports whether
// it changed anything; nil means the difference cannot show in these
// tests.
type eqDifference struct {
	name     string
	debian   string
	upstream string // and ours
	source   string
	rewrite  func(lines []string, x eqContext) ([]string, bool)
}

// eqDifferences are all the transcript differences allowed, applied in
// this order to the Debian transcript. Ours follows upstream v1.0.20260223
// where it differs from the installed Debian 1.0.20210914 (spec 0.2);
// userspace-program and exact-rule-delete are ours by design; mtu-min
// cannot show here.
//
//	name                Debian 1.0.20210914                 upstream v1.0.20260223 and ours       source
//	link-add-dev        ip link add IF type wireguard       ip link add dev IF type wireguard     0.2, v1.0.20250521
//	userspace-program   wireguard-go IF                     wg-quick userspace IF (embedded)      12.9, ours
//	hook-comments       hook text without "#…"              hook text as written                  0.2, v1.0.20260223
//	preup-after-link    PreUp, then ip link add             ip link add (+ fallback), then PreUp  0.2, v1.0.20250521
//	addconf             wg setconf IF /dev/fd/63            wg addconf IF /dev/fd/63              0.2, v1.0.20260223
//	rules-before-route  route add P/0 table T, two rules    the two rules, then the route         0.2, v1.0.20250521
//	sysctl-if-not-1     sysctl …src_valid_mark=1 always     only if the value is not 1            0.2, v1.0.20260223
//	mtu-min             largest endpoint path MTU           smallest (one route here: no effect)  0.2, v1.0.20260223
//	exact-rule-delete   ip -F rule delete table T and       ip -F rule delete pref P … for        ours (internal/quick
//	                    … table main suppress_prefixlength  exactly the two rules up added,       doc), fixing spec
//	                    0, each while any such rule exists  the last added first                  15.2 item 11
//
// Anything else that differs fails the test.
var eqDifferences = []eqDifference{{
	name:     "link-add-dev",
	debian:   "ip link add IF type wireguard",
	upstream: "ip link add dev IF type wireguard",
	source:   "spec 0.2, upstream v1.0.20250521",
	rewrite:  eqReplaceLine("ip link add IF type wireguard", "ip link add dev IF type wireguard"),
}, {
	name:     "userspace-program",
	debian:   "wireguard-go IF",
	upstream: "wg-quick userspace IF",
	source:   "spec 12.9: the fallback runs the userspace implementation; ours embeds one",
	rewrite:  eqReplaceLine("wireguard-go IF", "wg-quick userspace IF"),
}, {
	name:     "hook-comments",
	debian:   "hook text with # and what follows removed",
	upstream: "hook text as written, comment included",
	source:   "spec 0.2 and 12.13, upstream v1.0.20260223",
	rewrite: func(lines []string, x eqContext) ([]string, bool) {
		changed := false
		for _, h := range eqHookTexts(x.config) {
			raw := eqExpandHook(h)
			stripped, _, _ := strings.Cut(raw, "#")
			stripped = strings.TrimSpace(stripped)
			if stripped == raw {
				continue
			}
			for i, l := range lines {
				if l == stripped {
					lines[i], changed = raw, true
				}
			}
		}
		return lines, changed
	},
}, {
	name:     "preup-after-link",
	debian:   "PreUp hooks, then ip link add",
	upstream: "ip link add (and the fallback), then PreUp hooks, then wg addconf",
	source:   "spec 0.2 and 12.5, upstream v1.0.20250521",
	rewrite: func(lines []string, x eqContext) ([]string, bool) {
		link := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "ip link add ") })
		if x.verb != "up" || link <= 0 {
			return lines, false
		}
		pre := slices.Clone(lines[:link])
		rest := slices.Clone(lines[link:])
		conf := slices.IndexFunc(rest, func(l string) bool { return regexp.MustCompile(`^wg (set|add)conf `).MatchString(l) })
		if conf < 0 {
			return lines, false
		}
		return slices.Concat(rest[:conf], pre, rest[conf:]), true
	},
}, {
	name:     "addconf",
	debian:   "wg setconf IF /dev/fd/63",
	upstream: "wg addconf IF /dev/fd/63",
	source:   "spec 0.2, upstream v1.0.20260223",
	rewrite:  eqReplaceLine("wg setconf IF /dev/fd/63", "wg addconf IF /dev/fd/63"),
}, {
	name:     "rules-before-route",
	debian:   "ip -F route add P/0 dev IF table T; ip -F rule add not fwmark T table T; ip -F rule add table main suppress_prefixlength 0",
	upstream: "the two rules, then the route",
	source:   "spec 0.2 and 12.6.1, upstream v1.0.20250521",
	rewrite: func(lines []string, x eqContext) ([]string, bool) {
		route := regexp.MustCompile(`^ip (-[46]) route add \S+/0 dev IF table (\d+)$`)
		changed := false
		for i := 0; i+2 < len(lines); i++ {
			m := route.FindStringSubmatch(lines[i])
			if m == nil {
				continue
			}
			f, tbl := m[1], m[2]
			if lines[i+1] == fmt.Sprintf("ip %s rule add not fwmark %s table %s", f, tbl, tbl) &&
				lines[i+2] == fmt.Sprintf("ip %s rule add table main suppress_prefixlength 0", f) {
				lines[i], lines[i+1], lines[i+2] = lines[i+1], lines[i+2], lines[i]
				changed = true
				i += 2
			}
		}
		return lines, changed
	},
}, {
	name:     "sysctl-if-not-1",
	debian:   "sysctl -q net.ipv4.conf.all.src_valid_mark=1 for every IPv4 default route",
	upstream: "only when sysctl -n reports a value other than 1",
	source:   "spec 0.2 and 12.6.1, upstream v1.0.20260223",
	rewrite: func(lines []string, x eqContext) ([]string, bool) {
		if !x.srcValidMarkSet {
			return lines, false
		}
		out := slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return l == "sysctl -q net.ipv4.conf.all.src_valid_mark=1" })
		return out, len(out) != len(lines)
	},
}, {
	name:     "mtu-min",
	debian:   "largest MTU over the endpoint routes",
	upstream: "smallest",
	source:   "spec 0.2 and 12.7, upstream v1.0.20260223; not visible here, every endpoint is reached over under0",
}, {
	name:     "exact-rule-delete",
	debian:   "ip -F rule delete table T, then ip -F rule delete table main suppress_prefixlength 0, each repeated while any such rule exists",
	upstream: "ip -F rule delete pref P table main suppress_prefixlength 0, then ip -F rule delete pref P not fwmark T table T: exactly the rules this up added, in reverse",
	source:   "ours by design (internal/quick package doc): the reference deletes every suppress_prefixlength 0 rule, breaking another full tunnel (spec 15.2 item 11)",
	rewrite: func(lines []string, x eqContext) ([]string, bool) {
		if x.verb != "down" {
			return lines, false
		}
		del := regexp.MustCompile(`^ip (-[46]) rule delete table (\d+|main suppress_prefixlength 0)$`)
		var out []string
		changed := false
		for i := 0; i < len(lines); {
			m := del.FindStringSubmatch(lines[i])
			if m == nil {
				out = append(out, lines[i])
				i++
				continue
			}
			// The run of deletions for one family, replaced by the
			// deletion of each of the reference's rules of that family
			// after up, by priority, lowest (last added) first.
			f := m[1]
			for i < len(lines) && del.MatchString(lines[i]) && strings.HasPrefix(lines[i], "ip "+f+" ") {
				i++
			}
			rules := x.refRules.Rules4
			if f == "-6" {
				rules = x.refRules.Rules6
			}
			out = append(out, eqRuleDeletions(f, rules)...)
			changed = true
		}
		return out, changed
	},
}}

// eqReplaceLine returns a rewrite that replaces every line equal to from.
func eqReplaceLine(from, to string) func([]string, eqContext) ([]string, bool) {
	return func(lines []string, _ eqContext) ([]string, bool) {
		changed := false
		for i, l := range lines {
			if l == from {
				lines[i], changed = to, true
			}
		}
		return lines, changed
	}
}

var (
	eqSuppressRuleRE = regexp.MustCompile(`(?m)^(\d+):\s+from all lookup main suppress_prefixlength 0\s*$`)
	eqMarkRuleRE     = regexp.MustCompile(`(?m)^(\d+):\s+not from all fwmark 0x([0-9a-f]+) lookup (\d+)\s*$`)
)

// eqRuleDeletions renders, in ours's syntax and order (lowest priority
// first), the deletion of wg-quick's rules in an `ip rule` listing.
func eqRuleDeletions(f, rules string) []string {
	type del struct {
		prio int
		line string
	}
	var dels []del
	for _, m := range eqSuppressRuleRE.FindAllStringSubmatch(rules, -1) {
		var p int
		fmt.Sscan(m[1], &p)
		dels = append(dels, del{p, fmt.Sprintf("ip %s rule delete pref %d table main suppress_prefixlength 0", f, p)})
	}
	for _, m := range eqMarkRuleRE.FindAllStringSubmatch(rules, -1) {
		var p int
		var mark uint32
		fmt.Sscan(m[1], &p)
		fmt.Sscanf(m[2], "%x", &mark)
		dels = append(dels, del{p, fmt.Sprintf("ip %s rule delete pref %d not fwmark %d table %s", f, p, mark, m[3])})
	}
	slices.SortFunc(dels, func(a, b del) int { return a.prio - b.prio })
	var out []string
	for _, d := range dels {
		out = append(out, d.line)
	}
	return out
}

// eqHookKeys are the hook keys of a wg-quick file.
var eqHookKeys = []string{"PreUp", "PostUp", "PreDown", "PostDown"}

// eqHookTexts returns the values of the hooks in config, as written, in
// file order.
func eqHookTexts(config string) []string {
	var hooks []string
	for _, l := range strings.Split(config, "\n") {
		k, v, ok := strings.Cut(l, "=")
		if ok && slices.Contains(eqHookKeys, strings.TrimSpace(k)) {
			hooks = append(hooks, strings.TrimSpace(v))
		}
	}
	return hooks
}

// eqExpandHook is a hook as the normalised transcript shows it.
func eqExpandHook(h string) string {
	return strings.ReplaceAll(strings.ReplaceAll(h, "{{DIR}}", "$DIR"), "%i", "IF")
}

// eqHideNFT takes nft out of a side's PATH: /usr/sbin and /sbin are
// replaced by a directory of links to everything in /usr/sbin but nft.
func eqHideNFT(t *testing.T, s *eqSide) {
	t.Helper()
	dir := filepath.Join(s.dir, "sbin-without-nft")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("/usr/sbin")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "nft" {
			continue
		}
		if err := os.Symlink(filepath.Join("/usr/sbin", e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	for i, kv := range s.env {
		if path, ok := strings.CutPrefix(kv, "PATH="); ok {
			var keep []string
			for _, p := range strings.Split(path, ":") {
				switch p {
				case "/usr/sbin", "/sbin":
				case "/usr/local/sbin":
					keep = append(keep, p, dir)
				default:
					keep = append(keep, p)
				}
			}
			s.env[i] = "PATH=" + strings.Join(keep, ":")
		}
	}
}

// eqDropEmptyTables removes from `nft list ruleset` output the tables that
// hold chains but no rule.
func eqDropEmptyTables(ruleset string) string {
	var out []string
	for _, block := range regexp.MustCompile(`(?m)^table `).Split(ruleset, -1) {
		if block == "" {
			continue
		}
		empty := true
		for _, l := range strings.Split(block, "\n")[1:] {
			l = strings.TrimSpace(l)
			if l != "" && l != "}" && !strings.HasPrefix(l, "chain ") && !strings.HasPrefix(l, "type ") {
				empty = false
			}
		}
		if !empty {
			out = append(out, "table "+block)
		}
	}
	return strings.Join(out, "")
}
