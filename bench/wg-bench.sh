#!/usr/bin/env bash
# Benchmarks our wg against the installed reference (/usr/bin/wg) on a
# wireguard-go device in a private network namespace. Prints a markdown
# table: median wall-clock times of whole processes, the two tools (and the
# Go floor, a hello-world) interleaved round by round by bench/pairtime,
# which runs inside the namespace so that no `ip netns exec` is timed.
#
#   bench/wg-bench.sh [PEERS...]     (default: 1000 2000 10000)
#   RUNS=21 (rounds per median), START=0 (skip the start-up rows),
#   CMDS="show IF dump,showconf IF" (a subset of the device rows)
#
# Needs root, wireguard-go, the reference wg and GNU time (for peak RSS).
# Cleans up after itself.
set -euo pipefail
umask 077
cd "$(dirname "$0")/.."
sizes=("${@:-1000 2000 10000}")
read -r -a sizes <<<"${sizes[*]}"
runs=${RUNS:-21}
ref=/usr/bin/wg
work=$(mktemp -d)
ours=$work/wg
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
# Built as `make build` builds what `make install` installs.
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$ours" ./cmd/wg
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/wg-quick" ./cmd/wg-quick
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/floor" ./bench/floor
go build -o "$work/genconf" ./bench/genconf
go build -o "$work/pairtime" ./bench/pairtime
ip netns add "$ns"
ip netns exec "$ns" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go "$ifc" >/dev/null 2>&1
for _ in $(seq 50); do [[ -S /var/run/wireguard/$ifc.sock ]] && break; sleep 0.1; done
printf '[Interface]\n' >"$work/empty.conf"
"$ref" genkey >"$work/key"

# row PEERS LABEL [pairtime options] -- ARGS...: one table row, the
# reference, ours and the floor interleaved in the namespace. ARGS are the
# tool's arguments; a first argument "sh" times `sh -c ARGS[1]` with WG set
# to the tool instead. The tools are wg, or $rtool and $otool when set
# (rtool=none: a command the reference does not have).
row() {
	local n=$1 label=$2 rt=${rtool:-$ref} ot=${otool:-$ours}
	shift 2
	local -a opts=()
	while [[ $1 != -- ]]; do opts+=("$1"); shift; done
	shift
	local -a r o
	if [[ $1 == sh ]]; then
		r=(env WG="$rt" sh -c "$2")
		o=(env WG="$ot" sh -c "$2")
	else
		r=("$rt" "$@")
		o=("$ot" "$@")
	fi
	[[ $rt == none ]] && r=("$work/floor")
	local out
	out=$(ip netns exec "$ns" "$work/pairtime" -n "$runs" "${opts[@]}" -- \
		"${r[@]}" ::: "${o[@]}" ::: "$work/floor")
	# pairtime: ms, ratio to the reference, peak RSS KiB, command
	awk -F'\t' -v n="$n" -v label="$label" -v none="$([[ $rt == none ]] && echo 1)" '
		{ ms[NR] = $1; ratio[NR] = $2; rss[NR] = $3 }
		END {
			if (none) { ms[1] = "-"; rss[1] = "-"; r = "-" } else r = sprintf("%.2f", ratio[2])
			printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", n, label,
				ms[1], ms[2], r, ms[3], rss[1], rss[2]
		}' <<<"$out"
}

echo "| peers | command | reference (ms) | ours (ms) | ours/ref | Go floor (ms) | reference peak RSS (KiB) | ours peak RSS (KiB) |"
echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
if [[ ${START:-1} == 1 ]]; then
	row - "wg --version" -- --version
	row - "wg genkey" -- genkey
	row - "wg pubkey" -stdin "$work/key" -- pubkey
	row - "wg genkey \| wg pubkey, 50 times" -n $(((runs + 2) / 3)) -- sh \
		'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50; do "$WG" genkey | "$WG" pubkey; done'
	# wg-quick's read-only verbs on a one-peer file (the reference's
	# strip is bash; it has no check)
	"$work/genconf" -peers 1 | sed '1a Address = 10.0.0.1/24' >"$work/wgq0.conf"
	rtool=/usr/bin/wg-quick otool=$work/wg-quick row - "wg-quick strip FILE (1 peer)" -- strip "$work/wgq0.conf"
	rtool=none otool=$work/wg-quick row - "wg-quick check FILE (1 peer)" -- check "$work/wgq0.conf"
fi
for n in "${sizes[@]}"; do
	"$work/genconf" -peers "$n" >"$work/full.conf"
	"$work/genconf" -peers "$n" -change $((n / 2)) >"$work/changed.conf"
	"$ref" setconf "$ifc" "$work/full.conf"
	IFS=, read -r -a cmds <<<"${CMDS:-show IF dump,show IF,showconf IF,show IF allowed-ips,setconf IF FULL,syncconf IF CHANGED}"
	for cmd in "${cmds[@]}"; do
		args=(${cmd//IF/$ifc})
		args=("${args[@]//FULL/$work/full.conf}")
		args=("${args[@]//CHANGED/$work/changed.conf}")
		label="wg ${cmd//IF/<if>}"
		case $cmd in
		setconf*)
			# from an empty device: each timed run starts from nothing
			row "$n" "${label/FULL/FILE} (from empty)" -before "$ref setconf $ifc $work/empty.conf" -- "${args[@]}"
			;;
		syncconf*)
			# one peer of the file differs from the device
			row "$n" "${label/CHANGED/FILE} (1 peer differs)" -before "$ref setconf $ifc $work/full.conf" -- "${args[@]}"
			;;
		*)
			row "$n" "$label" -- "${args[@]}"
			;;
		esac
		"$ref" setconf "$ifc" "$work/full.conf"
	done
done
