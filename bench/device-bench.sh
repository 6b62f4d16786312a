#!/usr/bin/env bash
# Measures what configuring a userspace WireGuard device costs the device
# process, and prints a markdown table. For each implementation and each
# peer count, in a fresh namespace (nothing but lo and the device, so the
# peers' endpoints are unreachable and no handshake completes) and a fresh
# device per run:
#
#   - idle RSS: the daemon's VmRSS 0.5 s after it started, link down;
#   - setconf: wall time of the reference `/usr/bin/wg setconf` of N peers
#     (bench/genconf: a /32 each, every third a /128 too, every fifth a
#     keepalive), once with the link up (the device starts every peer as
#     it is added) and once with the link down (wg-quick's order: setconf,
#     then addresses, then up; the peers start at up);
#   - RSS: the daemon's VmRSS 1 s after the setconf on the up link, and
#     its peak (VmHWM).
#
# Implementations: Debian's /usr/bin/wireguard-go, stock wireguard-go built
# from the library version in go.mod (go build golang.zx2c4.com/wireguard),
# and ours (`wg-quick userspace`). Runs are interleaved (ours, debian,
# stock, ours, ...); each figure is the median of $RUNS runs.
#
#   bench/device-bench.sh              # 2000 and 10000 peers
#   RUNS=7 bench/device-bench.sh 500 2000
#
# Needs root, Go and the reference wg (/usr/bin/wg) and wireguard-go. Cleans
# up its namespaces, sockets and temporary files, also when interrupted.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

runs=${RUNS:-5}
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(2000 10000)
[[ $(id -u) == 0 ]] || {
	echo "device-bench.sh: must be run as root" >&2
	exit 1
}
for prog in go ip /usr/bin/wg /usr/bin/wireguard-go; do
	command -v "$prog" >/dev/null || {
		echo "device-bench.sh: $prog not found" >&2
		exit 1
	}
done

work=$(mktemp -d)
ns=wgdb$$ ifc=db$$
cleanup() {
	set +e
	ip -n "$ns" link del "$ifc" 2>/dev/null
	sleep 0.2
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -f "/var/run/wireguard/$ifc.sock"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "device-bench.sh: $*" >&2; }

log "building our wg-quick, stock wireguard-go and bench/genconf"
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/wg-quick" ./cmd/wg-quick
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/wireguard-go" golang.zx2c4.com/wireguard
go build -o "$work/genconf" ./bench/genconf
libver=$(go list -m -f '{{.Version}}' golang.zx2c4.com/wireguard)
export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 LOG_LEVEL=

# start IMPL: starts a device named $ifc in $ns and prints the daemon's PID.
start() {
	ip netns add "$ns"
	case $1 in
	ours) ip netns exec "$ns" "$work/wg-quick" userspace "$ifc" ;;
	debian) ip netns exec "$ns" /usr/bin/wireguard-go "$ifc" >/dev/null 2>&1 ;;
	stock) ip netns exec "$ns" "$work/wireguard-go" "$ifc" >/dev/null 2>&1 ;;
	esac
	local pid
	pid=$(ip netns pids "$ns")
	[[ $pid =~ ^[0-9]+$ ]] || {
		log "$1: want one daemon in $ns, found: $pid"
		exit 1
	}
	echo "$pid"
}
stop() {
	ip -n "$ns" link del "$ifc"
	for _ in $(seq 50); do
		[[ -e /var/run/wireguard/$ifc.sock ]] || break
		sleep 0.1
	done
	ip netns del "$ns"
}
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
ms() { echo $((($2 - $1) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# one IMPL N: one run; appends "idle up_ms down_ms rss hwm" to $work/IMPL.N.
one() {
	local impl=$1 n=$2 pid idle t0 t1 t2 t3 rss hwm
	pid=$(start "$impl")
	sleep 0.5
	idle=$(kb "$pid" VmRSS)
	ip -n "$ns" link set "$ifc" up
	t0=$(date +%s%N)
	ip netns exec "$ns" /usr/bin/wg setconf "$ifc" "$work/full$n.conf"
	t1=$(date +%s%N)
	sleep 1
	rss=$(kb "$pid" VmRSS) hwm=$(kb "$pid" VmHWM)
	stop
	pid=$(start "$impl")
	t2=$(date +%s%N)
	ip netns exec "$ns" /usr/bin/wg setconf "$ifc" "$work/full$n.conf"
	t3=$(date +%s%N)
	stop
	echo "$idle $(ms "$t0" "$t1") $(ms "$t2" "$t3") $rss $hwm" >>"$work/$impl.$n"
}

impls=(ours debian stock)
for n in "${sizes[@]}"; do
	"$work/genconf" -peers "$n" >"$work/full$n.conf"
	for r in $(seq "$runs"); do
		for impl in "${impls[@]}"; do
			log "$n peers, run $r/$runs: $impl"
			one "$impl" "$n"
		done
	done
done

col() { awk -v c="$1" '{ print $c }' "$2" | median; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
echo "Configuration cost of the userspace devices (median of $runs interleaved runs; stock = wireguard-go $libver):"
echo
echo "| peers | device | idle RSS (MiB) | setconf, link up (ms) | setconf, link down (ms) | RSS after (MiB) | peak RSS (MiB) |"
echo "|---:|---|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
	for impl in "${impls[@]}"; do
		f=$work/$impl.$n
		echo "| $n | $impl | $(mib "$(col 1 "$f")") | $(col 2 "$f") | $(col 3 "$f") | $(mib "$(col 4 "$f")") | $(mib "$(col 5 "$f")") |"
	done
done
