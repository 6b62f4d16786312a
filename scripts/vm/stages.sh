# stages.sh: what each test VM stage runs, sourced by scripts/vm/guest.
# Each stage_NAME returns non-zero when anything failed.

# gotest PKG [ARGS...] runs the test binary built from PKG (as test-vm
# names it) in PKG's directory, as `go test` would, with CI=true.
gotest() {
	local pkg=$1
	shift
	local bin=$work/tests/$(echo "$pkg" | tr / _).test
	log "go test $pkg $*"
	(cd "$WGTOOLS_ROOT/$pkg" && "$bin" -test.timeout 45m "$@")
}

# stage_kernel: Debian's kernel with its WireGuard module. The Go tests of
# wg and wg-quick that compare with the reference run here on kernel links
# (WGTOOLS_TEST_DEVICE=kernel makes nettest.NewDevice create them; wg-quick
# creates them by itself where the module loads).
stage_kernel() {
	export WGTOOLS_TEST_DEVICE=kernel
	modprobe tun
	local rc=0 run=${WGTOOLS_VM_RUN:-.}
	check_autoload || rc=1
	gotest cmd/wg -test.run "$run" -test.v || rc=1
	# Left out: TestCheckCorpus (its unresolvable.conf expects the host's
	# resolver to answer "no such host"; the VM has no network at all) and
	# the TestUserspace tests and the TestParity suite, which are about the
	# embedded device that wg-quick starts only where the module is missing
	# (they run natively).
	gotest cmd/wg-quick -test.run "$run" -test.skip '^(TestCheckCorpus|TestUserspace.*|TestParity|TestKillAtEveryStep)$' -test.v || rc=1
	# The kill -9 matrix runs whole natively (on the embedded device); on
	# kernel links it is sampled, a kill before every 9th step of up and of
	# reload, each finished by the next up or reload: the paths where a
	# kernel link, not a TUN, is left behind and cleaned up.
	if [ "$run" = . ]; then
		WGTOOLS_KILL_STRIDE=9 gotest cmd/wg-quick -test.run '^TestKillAtEveryStep$/^(up-then-up|reload-then-reload)$' -test.v || rc=1
	fi
	return $rc
}

# check_autoload: the module is not loaded at boot; our wg-quick up loads
# it by creating the link (the kernel runs modprobe for
# rtnl-link-wireguard), as ip(8) does for the reference, and makes a kernel
# link, not the userspace fallback.
check_autoload() {
	if grep -q '^wireguard ' /proc/modules; then
		log "FAIL autoload: wireguard is loaded before any test"
		return 1
	fi
	local d
	d=$(mktemp -d)
	ip netns add wgt-autoload
	printf '[Interface]\nPrivateKey = %s\nAddress = 10.84.0.1/24\n' "$(wg genkey)" >"$d/wgauto0.conf"
	chmod 600 "$d/wgauto0.conf"
	local out ok=0
	out=$(ip netns exec wgt-autoload "$WGTOOLS_TEST_BINDIR/wg-quick" up "$d/wgauto0.conf" 2>&1) || ok=1
	echo "$out"
	if [ $ok = 0 ] && grep -q '^wireguard ' /proc/modules && ip -n wgt-autoload -d link show wgauto0 | grep -q wireguard &&
		! grep -q 'Missing WireGuard kernel module' <<<"$out"; then
		log "ok autoload: wg-quick up loaded the module and made a kernel link"
	else
		log "FAIL autoload"
		ok=1
	fi
	ip netns exec wgt-autoload "$WGTOOLS_TEST_BINDIR/wg-quick" down "$d/wgauto0.conf" || ok=1
	ip netns del wgt-autoload
	rm -rf "$d"
	return $ok
}

# --- systemd stages: systemd is PID 1, `make install` done, wg-quick@wgboot
# enabled before boot (scripts/vm/test-vm stages it all).

failures=0

# expect DESCRIPTION COMMAND...: run COMMAND, log ok or FAIL.
expect() {
	local what=$1
	shift
	if "$@"; then
		log "ok   $what"
	else
		log "FAIL $what"
		failures=$((failures + 1))
		return 1
	fi
}

# expect_not DESCRIPTION COMMAND...: COMMAND must fail.
expect_not() {
	local what=$1
	shift
	if "$@"; then
		log "FAIL $what"
		failures=$((failures + 1))
		return 1
	fi
	log "ok   $what"
}

# wait_for SECONDS COMMAND...: poll COMMAND until it succeeds, bounded.
wait_for() {
	local n=$(($1 * 5))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

is_kernel_link() { ip -d link show "$1" 2>/dev/null | grep -q 'wireguard'; }
link_exists() { ip link show "$1" >/dev/null 2>&1; }
no_link() { ! link_exists "$1"; }
has_route() { ip route show table all | grep -q "^$1 dev $2"; }
unit_state() { [ "$(systemctl show -P ActiveState "$1")" = "$2" ]; }
no_journal() { ! ls /run/wgtools/"$1".json /run/wgtools/netns-*/"$1".json >/dev/null 2>&1; }
no_socket() { [ ! -e "/var/run/wireguard/$1.sock" ]; }
no_daemon() { ! pgrep -f "[w]g-quick userspace.* $1\$" >/dev/null; }

# net_state: what a unit's failure or stop must leave as it found it.
# wgboot's lines are left out: wg-quick.target restarts it meanwhile, with
# a new ifindex and, on a TUN, a new IPv6 link-local address.
net_state() {
	{
		ip -o address show | sed 's/^[0-9]*: //'
		ip route show table all
		ip rule show
		ip -6 rule show
		nft list ruleset 2>/dev/null
	} | grep -v wgboot
}

# same_state BEFORE: net_state is BEFORE, else show the difference.
same_state() {
	local now
	now=$(net_state)
	[ "$now" = "$1" ] && return 0
	diff <(echo "$1") <(echo "$now")
	return 1
}

# show_unit UNIT: what systemd knows of a unit, for a failure's log.
show_unit() {
	systemctl status --no-pager -l "$1"
	journalctl --no-pager -b -u "$1" | tail -40
}

# boot_checks IF KIND: the interface enabled before boot is up, after
# network-online.target, and of the expected kind (kernel or userspace).
boot_checks() {
	local ifname=$1 kind=$2
	expect "wg-quick@$ifname enabled at boot is active" unit_state "wg-quick@$ifname.service" active ||
		show_unit "wg-quick@$ifname.service"
	local online unit
	online=$(systemctl show -P ActiveEnterTimestampMonotonic network-online.target)
	unit=$(systemctl show -P InactiveExitTimestampMonotonic "wg-quick@$ifname.service")
	expect "wg-quick@$ifname started after network-online.target ($online <= $unit)" test "$online" -gt 0 -a "$online" -le "$unit"
	expect "$ifname has its address" sh -c "ip -o address show dev $ifname | grep -q 10.90.0.1/24"
	if [ "$kind" = kernel ]; then
		expect "$ifname is a kernel link" is_kernel_link "$ifname"
	else
		expect "$ifname runs on the embedded device" test -S "/var/run/wireguard/$ifname.sock"
	fi
}

# lifecycle IF KIND: enable/start/status/reload/restart/stop of
# wg-quick@IF, the target and the reresolve timer, state checked each step.
lifecycle() {
	local ifname=$1 kind=$2 conf=/etc/wireguard/$1.conf
	local key peer1 peer2
	key=$(wg genkey)
	peer1=$(wg genkey | wg pubkey)
	peer2=$(wg genkey | wg pubkey)
	umask 077
	printf '[Interface]\nPrivateKey = %s\nAddress = 10.91.0.1/24\nListenPort = 51891\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.91.1.0/24\nEndpoint = 127.0.0.1:51999\n' "$key" "$peer1" >"$conf"
	umask 022
	local before
	before=$(net_state)

	expect "systemctl enable --now wg-quick@$ifname" systemctl enable --now "wg-quick@$ifname"
	expect "wg-quick@$ifname is enabled" systemctl is-enabled --quiet "wg-quick@$ifname"
	expect "wg-quick@$ifname is active" unit_state "wg-quick@$ifname.service" active
	expect "systemctl status wg-quick@$ifname exits 0" systemctl status --no-pager "wg-quick@$ifname"
	expect "route 10.91.1.0/24 via $ifname" has_route 10.91.1.0/24 "$ifname"
	if [ "$kind" = kernel ]; then
		expect "$ifname is a kernel link" is_kernel_link "$ifname"
	else
		local cg pid
		cg=$(systemctl show -P ControlGroup "wg-quick@$ifname.service")
		pid=$(pgrep -f "[w]g-quick userspace.* $ifname\$" | head -1)
		expect "the embedded device (pid ${pid:-none}) runs in the unit's cgroup $cg" grep -qx "${pid:-x}" "/sys/fs/cgroup$cg/cgroup.procs"
		expect "systemctl status shows the device process" sh -c "systemctl status --no-pager -l wg-quick@$ifname | grep -q 'userspace'"
		# Hardened (userspace.Harden): CAP_NET_BIND_SERVICE, CAP_NET_ADMIN
		# and CAP_SYS_ADMIN alone, no new privileges, under the unit.
		expect "the device keeps only its three capabilities and no_new_privs" sh -c "grep -q '^CapEff:[[:space:]]*0000000000201400\$' /proc/${pid:-x}/status && grep -q '^CapBnd:[[:space:]]*0000000000201400\$' /proc/${pid:-x}/status && grep -q '^NoNewPrivs:[[:space:]]*1\$' /proc/${pid:-x}/status"
	fi

	# reload applies a changed file: a second peer, and the first one's
	# allowed IPs changed.
	sed -i "s|AllowedIPs = 10.91.1.0/24|AllowedIPs = 10.91.3.0/24|" "$conf"
	printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.91.2.0/24\n' "$peer2" >>"$conf"
	expect "systemctl reload wg-quick@$ifname" systemctl reload "wg-quick@$ifname"
	expect "after reload: the new peer is on $ifname" sh -c "wg show $ifname peers | grep -qx '$peer2'"
	expect "after reload: route 10.91.2.0/24" has_route 10.91.2.0/24 "$ifname"
	expect "after reload: route 10.91.3.0/24" has_route 10.91.3.0/24 "$ifname"
	expect_not "after reload: route 10.91.1.0/24 gone" has_route 10.91.1.0/24 "$ifname"
	expect "after reload: still active" unit_state "wg-quick@$ifname.service" active

	# The reresolve timer fires (after 30 s) and its service succeeds.
	expect "systemctl start wg-quick-reresolve@$ifname.timer" systemctl start "wg-quick-reresolve@$ifname.timer"
	expect "the reresolve timer fired within 90 s" wait_for 90 sh -c "[ \$(systemctl show -P ExecMainExitTimestampMonotonic wg-quick-reresolve@$ifname.service) -gt 0 ]"
	expect "reresolve succeeded" sh -c "[ \$(systemctl show -P Result wg-quick-reresolve@$ifname.service) = success ] && [ \$(systemctl show -P ExecMainStatus wg-quick-reresolve@$ifname.service) = 0 ]"
	systemctl stop "wg-quick-reresolve@$ifname.timer"

	expect "systemctl restart wg-quick@$ifname" systemctl restart "wg-quick@$ifname"
	expect "after restart: active, route 10.91.2.0/24" has_route 10.91.2.0/24 "$ifname"

	# wg-quick.target: stopping it stops every instance (PartOf);
	# starting it starts the enabled ones (WantedBy).
	expect "systemctl stop wg-quick.target" systemctl stop wg-quick.target
	expect "wg-quick.target stop took wg-quick@$ifname down" unit_state "wg-quick@$ifname.service" inactive
	expect "systemctl start wg-quick.target" systemctl start wg-quick.target
	expect "wg-quick.target start brought wg-quick@$ifname up" unit_state "wg-quick@$ifname.service" active

	expect "systemctl stop wg-quick@$ifname" systemctl stop "wg-quick@$ifname"
	expect "after stop: inactive" unit_state "wg-quick@$ifname.service" inactive
	expect "after stop: no link $ifname" no_link "$ifname"
	expect "after stop: no journal" no_journal "$ifname"
	expect "after stop: no socket" no_socket "$ifname"
	expect "after stop: no device process" no_daemon "$ifname"
	expect "after stop: addresses, routes, rules and nftables as before" same_state "$before"
	systemctl disable --quiet "wg-quick@$ifname"
	rm -f "$conf"
}

# failing_up IF: an up that fails after the link exists (PostUp fails)
# leaves the unit failed and the system as it was.
failing_up() {
	local ifname=$1 conf=/etc/wireguard/$1.conf before
	umask 077
	printf '[Interface]\nPrivateKey = %s\nAddress = 10.92.0.1/24\nPostUp = false\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 0.0.0.0/0\n' "$(wg genkey)" "$(wg genkey | wg pubkey)" >"$conf"
	umask 022
	before=$(net_state)
	expect_not "systemctl start wg-quick@$ifname fails" systemctl start "wg-quick@$ifname"
	expect "wg-quick@$ifname is failed" systemctl is-failed --quiet "wg-quick@$ifname"
	expect "after the failed up: no link" no_link "$ifname"
	expect "after the failed up: no journal, socket or device process" sh -c "! ls /run/wgtools/$ifname.json 2>/dev/null && [ ! -e /var/run/wireguard/$ifname.sock ] && ! pgrep -f '[w]g-quick userspace.* $ifname\$'"
	expect "after the failed up: addresses, routes, rules and nftables as before" same_state "$before"
	systemctl reset-failed "wg-quick@$ifname"
	rm -f "$conf"
}

# saveconfig IFNAME: SaveConfig on `systemctl stop` edits the file in
# place (a peer added at run time is appended, comments stay), and keeps a
# file edited while the interface was up, saying so in the unit's log,
# which never shows the private key.
saveconfig() {
	local ifname=$1 conf=/etc/wireguard/$1.conf
	local key peer1 peer2 orig want edited
	key=$(wg genkey)
	peer1=$(wg genkey | wg pubkey)
	peer2=$(wg genkey | wg pubkey)
	umask 077
	printf '# kept by save\n[Interface]\nPrivateKey = %s\nAddress = 10.92.0.1/24  # office\nListenPort = 51892\nSaveConfig = true\n\n# laptop\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.92.1.0/24\n' "$key" "$peer1" >"$conf"
	umask 022
	orig=$(cat "$conf")
	expect "systemctl start wg-quick@$ifname (SaveConfig = true)" systemctl start "wg-quick@$ifname"
	expect "wg set $ifname peer ... (a peer added at run time)" wg set "$ifname" peer "$peer2" allowed-ips 10.92.2.0/24
	expect "systemctl stop wg-quick@$ifname saves" systemctl stop "wg-quick@$ifname"
	want=$(printf '%s\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.92.2.0/24' "$orig" "$peer2")
	expect "the file is as it was, with the new peer appended" test "$(cat "$conf")" = "$want"
	expect "systemctl start wg-quick@$ifname again" systemctl start "wg-quick@$ifname"
	sed -i 's/^# laptop$/# laptop (Ana)/' "$conf"
	edited=$(cat "$conf")
	expect "wg set $ifname peer ... remove" wg set "$ifname" peer "$peer2" remove
	expect "systemctl stop wg-quick@$ifname (file edited while up)" systemctl stop "wg-quick@$ifname"
	expect "the edited file is kept" test "$(cat "$conf")" = "$edited"
	expect "the unit's log says the edit was kept" sh -c "journalctl -u wg-quick@$ifname --no-pager | grep -q 'keeping the edited file'"
	expect_not "the unit's log never shows the private key" sh -c "journalctl -u wg-quick@$ifname --no-pager | grep -qF '$key'"
	expect "after stop: no link $ifname" no_link "$ifname"
	systemctl reset-failed "wg-quick@$ifname"
	rm -f "$conf"
}

common_systemd() {
	local kind=$1
	expect "the system finished booting" wait_for 120 sh -c 'systemctl is-system-running | grep -Eq "running|degraded"'
	systemctl --no-pager --failed
	expect "wg-quick is ours (/usr/local/bin, from make install)" test "$(command -v wg-quick)" = /usr/local/bin/wg-quick
	expect "the wg-quick@ unit runs ours" sh -c "systemctl cat wg-quick@wgboot | grep -q 'ExecStart=/usr/local/bin/wg-quick up'"
	boot_checks wgboot "$kind"
	lifecycle wgsd0 "$kind"
	saveconfig wgsv0
	failing_up wgsdbad
	expect "systemctl stop wg-quick@wgboot" systemctl stop wg-quick@wgboot
	expect "wgboot gone" no_link wgboot
	expect "wgboot: no socket or device left" sh -c "[ ! -e /var/run/wireguard/wgboot.sock ] && ! pgrep -af '[w]g-quick userspace'"
}

# package_roundtrip: our .deb installed over the reference wireguard-tools
# (dpkg removes it: Conflicts and Replaces), used (binaries, man pages,
# completions, a unit, make demo), removed without a trace, and the
# reference's own .deb installed again. The VM's root is an overlay, so
# none of it reaches the host.
package_roundtrip() {
	local deb ref owned conf=/etc/wireguard/wgpkg0.conf
	deb=$(ls "$work"/dist/wgtools_*.deb)
	ref=$(ls "$work"/ref/wireguard-tools_*.deb)
	# make install's copy in /usr/local would shadow the package's.
	make -s -C "$WGTOOLS_ROOT" uninstall >/dev/null
	systemctl daemon-reload
	expect "wireguard-tools is installed before" sh -c "dpkg-query -W -f='\${Status}' wireguard-tools | grep -q 'install ok installed'"
	expect "dpkg -i $(basename "$deb")" dpkg -i "$deb"
	expect_not "wireguard-tools was removed" sh -c "dpkg-query -W -f='\${Status}' wireguard-tools 2>/dev/null | grep -q 'install ok installed'"
	expect "dpkg -s wgtools: installed, provides wireguard-tools" sh -c "dpkg -s wgtools | grep -q '^Provides: wireguard-tools (= '"
	owned=$(dpkg -L wgtools)
	log "dpkg -L wgtools: $(echo "$owned" | tr '\n' ' ')"
	expect "dpkg -L wgtools lists /usr/bin/wg, /usr/bin/wg-quick and the units" sh -c "dpkg -L wgtools | grep -qx /usr/bin/wg && dpkg -L wgtools | grep -qx /usr/bin/wg-quick && dpkg -L wgtools | grep -qx /lib/systemd/system/wg-quick@.service"
	expect "/usr/bin/wg is ours (a Go program)" grep -qa 'Go buildinf' /usr/bin/wg
	expect "wg genkey | wg pubkey works" sh -c "/usr/bin/wg genkey | /usr/bin/wg pubkey | grep -Eq '^[A-Za-z0-9+/]{43}=\$'"
	expect "man wg finds the package's page" sh -c "man -w wg | grep -qx /usr/share/man/man8/wg.8.gz && man -w wg-quick | grep -qx /usr/share/man/man8/wg-quick.8.gz"
	expect "bash completes wg from the package" bash -c '. /usr/share/bash-completion/completions/wg && complete -p wg >/dev/null'
	expect "the packaged unit runs /usr/bin/wg-quick" sh -c "systemctl cat wg-quick@wgpkg0 | grep -q 'ExecStart=/usr/bin/wg-quick up'"
	umask 077
	printf '[Interface]\nPrivateKey = %s\nAddress = 10.93.0.1/24\n' "$(/usr/bin/wg genkey)" >"$conf"
	umask 022
	expect "systemctl start wg-quick@wgpkg0 (packaged unit)" systemctl start wg-quick@wgpkg0 ||
		journalctl -u wg-quick@wgpkg0 --no-pager | tail -20
	expect "wgpkg0 is a kernel link" is_kernel_link wgpkg0
	expect "systemctl stop wg-quick@wgpkg0" systemctl stop wg-quick@wgpkg0
	rm -f "$conf"
	expect "make demo with the installed binaries" env WGTOOLS_DEMO_BINDIR=/usr/bin sh "$WGTOOLS_ROOT/scripts/demo"
	# The differential tests keep comparing with the C and bash reference:
	# unpacked as install-test-deps unpacks it (there from the archive;
	# the VM has no network), found after /usr/bin.
	dpkg -x "$ref" /var/lib/wgtools-reference
	expect "with wgtools installed, go test cmd/wg compares with the unpacked reference" \
		gotest cmd/wg -test.run '^(TestDispatchAgainstReference|TestShowAgainstReference|TestConfigCommandsAgainstReference)$' -test.v
	expect "... and internal/nettest says the reference is the unpacked one" sh -c "cd $WGTOOLS_ROOT/internal/nettest && $work/tests/internal_nettest.test -test.run '^TestCheckReference\$' -test.v | grep -q 'reference in /var/lib/wgtools-reference/usr/bin'"
	expect "dpkg -r wgtools" dpkg -r wgtools
	# Its files, that is: directories such as /usr/share/man/man8 are shared.
	expect "nothing of the package is left" sh -c "for f in \$(echo '$owned'); do [ -d \$f ] || [ ! -e \$f ] || { echo left: \$f; exit 1; }; done"
	expect "dpkg -i $(basename "$ref") (the reference again)" dpkg -i "$ref"
	expect "/usr/bin/wg is the C tool again" sh -c "! grep -qa 'Go buildinf' /usr/bin/wg && /usr/bin/wg --version | grep -q '^wireguard-tools'"
	expect "dpkg -V wireguard-tools: intact" dpkg -V wireguard-tools
}

# stage_systemd: systemd as PID 1 on the kernel module.
stage_systemd() {
	common_systemd kernel
	package_roundtrip
	return $((failures > 0))
}

# stage_nomodule: systemd as PID 1 with the module unloadable
# (module_blacklist=wireguard): the embedded device runs inside the
# units, and wg says what the reference says where there is no module.
stage_nomodule() {
	expect_not "modprobe wireguard fails" modprobe wireguard
	local ref ours
	ref=$(/usr/bin/wg show wgnothere 2>&1; echo "exit $?")
	ours=$(/usr/local/bin/wg show wgnothere 2>&1; echo "exit $?")
	log "reference: $ref"
	expect "wg show IF without the module: ours as the reference (Protocol not supported)" test "$ref" = "$ours"
	expect "... and that is: Unable to access interface: Protocol not supported" test "$ref" = "Unable to access interface: Protocol not supported
exit 1"
	ref=$(/usr/bin/wg show all 2>&1; echo "exit $?")
	ours=$(/usr/local/bin/wg show all 2>&1; echo "exit $?")
	expect "wg show all without the module: ours as the reference" test "$ref" = "$ours"
	common_systemd userspace
	# The embedded device's end-to-end tests, where the kernel really has
	# no WireGuard (natively the module is simply not there).
	expect "go test cmd/wg-quick -run TestUserspace" gotest cmd/wg-quick -test.run '^TestUserspace' -test.v
	return $((failures > 0))
}
