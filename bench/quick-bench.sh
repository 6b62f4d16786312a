#!/usr/bin/env bash
# Benchmarks `wg-quick up` and `down`, ours against the installed
# reference (bash wg-quick with wireguard-go as its userspace device; ours
# with its embedded device), interleaved, each run in a fresh network
# namespace. Prints a markdown table of median wall-clock times and, for
# ours, how `up` splits between link creation, device configuration and
# routes (WG_QUICK_TIMING=1).
#
#   bench/quick-bench.sh [PEERS...]   (default: 1 100 1000 5000)
#   RUNS=5; a 1000-peer case with 3 allowed IPs each incl. IPv6 is added
#   unless V6=0.
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a sizes <<<"${*:-1 100 1000 5000}"
runs=${RUNS:-5}
work=$(mktemp -d)
CGO_ENABLED=0 go build -trimpath -o "$work/wg-quick" ./cmd/wg-quick
CGO_ENABLED=0 go build -trimpath -o "$work/wg" ./cmd/wg
go build -o "$work/genconf" ./bench/genconf
# A resolvconf that does nothing, so DNS never touches this host.
mkdir -p "$work/fake"
printf '#!/bin/sh\nexit 0\n' >"$work/fake/resolvconf"
chmod +x "$work/fake/resolvconf"
ns=wgqb$$
cleanup() {
	ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# conf N [extra]: a wg-quick config with N peers, one /32 each (and with
# extra, three allowed IPs each including an IPv6 /128), no endpoints.
conf() {
	{
		echo "[Interface]"
		echo "Address = 10.63.255.254/32"
		"$work/genconf" -peers "$1" | sed -n '2,$p' | grep -v '^Endpoint' |
			if [[ ${2:-} == v6 ]]; then
				awk '/^AllowedIPs/ {n++; printf "AllowedIPs = 10.%d.%d.1/32, 10.%d.%d.2/32, fd00:1::%x/128\n", 128+int(n/65536)%64, int(n/256)%256, 128+int(n/65536)%64, int(n/256)%256, n; next} {print}' |
					awk '!/^AllowedIPs/ || !seen[$0]++'
			else cat; fi
	}
}

# nstime NS ERRFILE CMD...: milliseconds of wall time of CMD run inside
# namespace NS, measured inside it, so that neither side pays for
# `ip netns exec` itself (about 6 ms here) in its figure. CMD's stderr goes
# to ERRFILE.
nstime() {
	local ns=$1 errfile=$2
	shift 2
	ip netns exec "$ns" bash -c 's=$(date +%s%N); "$@" >/dev/null 2>"$0"; e=$(date +%s%N); echo $(((e - s) / 1000000))' "$errfile" "$@"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| peers | ref up (ms) | ours up (ms) | up speed-up | ref down (ms) | ours down (ms) | ours up split (link / device / routes ms) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | --- |"
cases=("${sizes[@]}")
[[ ${V6:-1} == 1 ]] && cases+=("1000v6")
for c in "${cases[@]}"; do
	n=${c%v6}
	extra=""
	[[ $c == *v6 ]] && extra=v6
	name=wgqb$n$extra
	name=${name:0:15}
	conf "$n" "$extra" >"$work/$name.conf"
	chmod 600 "$work/$name.conf"
	ru=() rd=() ou=() od=() split=()
	for _ in $(seq "$runs"); do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ru+=("$(nstime "$ns" /dev/null env PATH="$work/fake:$PATH" WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 /usr/bin/wg-quick up "$work/$name.conf")")
		rd+=("$(nstime "$ns" /dev/null env PATH="$work/fake:$PATH" /usr/bin/wg-quick down "$work/$name.conf")")
		ip netns del "$ns"
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ou+=("$(nstime "$ns" "$work/timing" env PATH="$work/fake:$PATH" WG_QUICK_TIMING=1 "$work/wg-quick" up "$work/$name.conf")")
		split+=("$(grep '^\[timing\]' "$work/timing" | awk '{printf "%s=%s ", $2, $3}')")
		od+=("$(nstime "$ns" /dev/null env PATH="$work/fake:$PATH" "$work/wg-quick" down "$work/$name.conf")")
		ip netns del "$ns"
	done
	mru=$(printf '%s\n' "${ru[@]}" | median)
	mou=$(printf '%s\n' "${ou[@]}" | median)
	mrd=$(printf '%s\n' "${rd[@]}" | median)
	mod=$(printf '%s\n' "${od[@]}" | median)
	sp=$(awk -v r="$mru" -v o="$mou" 'BEGIN {printf "%.1fx", r/o}')
	echo "| $c | $mru | $mou | $sp | $mrd | $mod | ${split[0]} |"
done
