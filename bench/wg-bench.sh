#!/usr/bin/env bash
# Benchmarks our wg against the installed reference (/usr/bin/wg) on a
# wireguard-go device in a private network namespace, interleaving the two
# so that both see the same machine state. Prints a markdown table of
# median wall-clock times of whole processes.
#
#   bench/wg-bench.sh [PEERS...]     (default: 1000 10000 50000)
#   RUNS=7 (runs per median), CMDS="show IF dump,showconf IF" (a subset)
#
# Needs root, wireguard-go and the reference wg. Cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-1000 10000 50000}")
read -r -a sizes <<<"${sizes[*]}"
runs=${RUNS:-7}
ref=/usr/bin/wg
ours=$PWD/bin/wg
work=$(mktemp -d)
ns=wgbench$$
ifc=wgb$$
cleanup() {
	ip -n "$ns" link del "$ifc" 2>/dev/null || true
	sleep 0.2
	ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -f "/var/run/wireguard/$ifc.sock"
	rm -rf "$work"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -trimpath -o "$ours" ./cmd/wg
go build -o "$work/genconf" ./bench/genconf
ip netns add "$ns"
ip netns exec "$ns" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go "$ifc" >/dev/null 2>&1
for _ in $(seq 50); do [[ -S /var/run/wireguard/$ifc.sock ]] && break; sleep 0.1; done

# median TOOL ARGS...: median wall time in ms of $runs runs, output discarded.
median() {
	local -a t=()
	for _ in $(seq "$runs"); do
		local s e
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s%N)
		t+=($(((e - s) / 1000)))
	done
	printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

echo "| peers | command | reference (ms) | ours (ms) | ours/ref |"
echo "| ---: | --- | ---: | ---: | ---: |"
for n in "${sizes[@]}"; do
	"$work/genconf" -peers "$n" >"$work/full.conf"
	"$work/genconf" -peers "$n" -change $((n / 2)) >"$work/changed.conf"
	"$ref" setconf "$ifc" "$work/full.conf"
	IFS=, read -r -a cmds <<<"${CMDS:-show IF dump,show IF,showconf IF,setconf IF FULL,syncconf IF CHANGED}"
	for cmd in "${cmds[@]}"; do
		args=(${cmd//IF/$ifc})
		args=("${args[@]//FULL/$work/full.conf}")
		args=("${args[@]//CHANGED/$work/changed.conf}")
		r=$(median "$ref" "${args[@]}")
		"$ref" setconf "$ifc" "$work/full.conf"
		o=$(median "$ours" "${args[@]}")
		"$ref" setconf "$ifc" "$work/full.conf"
		ratio=$(awk -v o="$o" -v r="$r" 'BEGIN {printf "%.2f", o/r}')
		echo "| $n | wg ${cmd//IF/<if>} | $r | $o | $ratio |"
	done
done
