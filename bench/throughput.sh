#!/usr/bin/env bash
# Measures the userspace WireGuard devices end to end between two network
# namespaces joined by a veth, and prints a markdown table:
#
#   - TCP throughput through the tunnel, iperf3 for $DURATION seconds with
#     1 and with 4 streams (-P 4), as the receiver counted it;
#   - ping round-trip time through the tunnel, the median of 20 pings
#     (-i 0.2) sent once the handshake is done;
#   - the device process's VmRSS, idle and with $PEERS peers applied by the
#     reference `wg setconf` (bench/genconf), in a namespace of its own with
#     nothing but lo, so that the peers' endpoints are unreachable;
#   - start-up: wall time from `wg-quick up` to the first ping reply across
#     the tunnel (the handshake included), the median of $RUNS runs.
#
# Rows: the bare veth (the ceiling); Debian's /usr/bin/wireguard-go and a
# stock wireguard-go built from the library version in go.mod (`go install
# golang.zx2c4.com/wireguard@VERSION`, through the Go module proxy), both
# brought up by the reference wg-quick with WG_QUICK_USERSPACE_IMPLEMENTATION;
# and ours, our wg-quick with its embedded device. Both ends of a tunnel run
# the same implementation.
#
#   bench/throughput.sh
#   DURATION=10 (seconds per iperf3 run), RUNS=5, PEERS=10000
#
# Needs root, iperf3, ping, jq, Go, the reference wg and wg-quick
# (/usr/bin) and wireguard-go. Uses only 10.93.0.0/24 (veth) and
# 10.94.0.0/24 (tunnel) inside its own namespaces, and cleans up after
# itself, also when interrupted. Progress goes to stderr, the table to
# stdout.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

duration=${DURATION:-10}
runs=${RUNS:-5}
peers=${PEERS:-10000}
[[ $(id -u) == 0 ]] || {
	echo "throughput.sh: must be run as root" >&2
	exit 1
}
for prog in iperf3 ping jq go ip /usr/bin/wg /usr/bin/wg-quick /usr/bin/wireguard-go; do
	command -v "$prog" >/dev/null || {
		echo "throughput.sh: $prog not found" >&2
		exit 1
	}
done

work=$(mktemp -d)
nsA=wgtpa$$ nsB=wgtpb$$ nsR=wgtpr$$
ifA=tpa$$ ifB=tpb$$ ifR=tpr$$
underA=10.93.0.1 underB=10.93.0.2
tunA=10.94.0.1 tunB=10.94.0.2

cleanup() {
	set +e
	for ns in "$nsA" "$nsB" "$nsR"; do
		# Deleting the links makes the daemons exit and remove their
		# sockets; whatever is left in the namespace is then killed.
		for ifc in "$ifA" "$ifB" "$ifR"; do ip -n "$ns" link del "$ifc" 2>/dev/null; done
	done
	sleep 0.3
	for ns in "$nsA" "$nsB" "$nsR"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	for ifc in "$ifA" "$ifB" "$ifR"; do
		rm -f "/var/run/wireguard/$ifc.sock" /run/wgtools/"$ifc".* /run/wgtools/netns-*/"$ifc".*
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "throughput.sh: $*" >&2; }

log "building our wg-quick and bench/genconf"
CGO_ENABLED=0 go build -trimpath -o "$work/wg-quick" ./cmd/wg-quick
go build -o "$work/genconf" ./bench/genconf
ours=$work/wg-quick

libver=$(go list -m -f '{{.Version}}' golang.zx2c4.com/wireguard)
stock=$work/stock/wireguard
stocknote=""
log "building stock wireguard-go from golang.zx2c4.com/wireguard@$libver"
if ! GOBIN=$work/stock go install "golang.zx2c4.com/wireguard@$libver" >"$work/stock.log" 2>&1 || [[ ! -x $stock ]]; then
	stocknote="go install golang.zx2c4.com/wireguard@$libver failed: $(tr '\n' ' ' <"$work/stock.log")"
	log "$stocknote"
	stock=""
fi
debianver=$(/usr/bin/wireguard-go --version | sed -n 's/^wireguard-go //p' | head -1)
stockver=""
[[ -n $stock ]] && stockver=$("$stock" --version | sed -n 's/^wireguard-go //p' | head -1)

# A resolvconf that does nothing, first in PATH (no config sets DNS, but
# nothing here may ever touch the host's resolv.conf).
mkdir -p "$work/fake" "$work/conf"
printf '#!/bin/sh\nexit 0\n' >"$work/fake/resolvconf"
chmod +x "$work/fake/resolvconf"

# The two hosts, joined by a veth.
for ns in "$nsA" "$nsB"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip -n "$nsA" link add veth0 type veth peer name veth0 netns "$nsB"
ip -n "$nsA" address add "$underA/24" dev veth0
ip -n "$nsB" address add "$underB/24" dev veth0
ip -n "$nsA" link set veth0 up
ip -n "$nsB" link set veth0 up

keyA=$(/usr/bin/wg genkey) keyB=$(/usr/bin/wg genkey)
confA=$work/conf/$ifA.conf confB=$work/conf/$ifB.conf
cat >"$confA" <<EOF
[Interface]
PrivateKey = $keyA
Address = $tunA/24
ListenPort = 51820

[Peer]
PublicKey = $(/usr/bin/wg pubkey <<<"$keyB")
AllowedIPs = $tunB/32
Endpoint = $underB:51820
EOF
cat >"$confB" <<EOF
[Interface]
PrivateKey = $keyB
Address = $tunB/24
ListenPort = 51820

[Peer]
PublicKey = $(/usr/bin/wg pubkey <<<"$keyA")
AllowedIPs = $tunA/32
Endpoint = $underA:51820
EOF
chmod 600 "$confA" "$confB"
"$work/genconf" -peers "$peers" >"$work/peers.conf"

# quick IMPL NS VERB CONF: wg-quick VERB CONF in NS, for implementation IMPL:
# ours (our wg-quick, embedded device), debian or stock (the reference
# wg-quick with that wireguard-go).
quick() {
	local impl=$1 ns=$2 verb=$3 conf=$4 rc=0
	case $impl in
	ours)
		ip netns exec "$ns" env -u WG_QUICK_USERSPACE_IMPLEMENTATION PATH="$work/fake:$PATH" \
			"$ours" "$verb" "$conf" >"$work/quick.log" 2>&1 || rc=$?
		;;
	debian | stock)
		local bin=/usr/bin/wireguard-go
		[[ $impl == stock ]] && bin=$stock
		ip netns exec "$ns" env PATH="$work/fake:$PATH" WG_QUICK_USERSPACE_IMPLEMENTATION="$bin" \
			WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 LOG_LEVEL= \
			/usr/bin/wg-quick "$verb" "$conf" >"$work/quick.log" 2>&1 || rc=$?
		;;
	esac
	if ((rc != 0)); then
		log "$impl: wg-quick $verb $conf failed:"
		cat "$work/quick.log" >&2
		return 1
	fi
}

# wait_gone IF: waits, at most 10 s, until the UAPI socket of IF is gone,
# that is until its daemon has exited.
wait_gone() {
	for _ in $(seq 200); do
		[[ -e /var/run/wireguard/$1.sock ]] || return 0
		sleep 0.05
	done
	log "the daemon of $1 did not remove its socket within 10 s"
	return 1
}

# reach ADDR: pings ADDR from A until it answers, at most 10 s.
reach() {
	ip netns exec "$nsA" ping -n -q -c 1 -w 10 -i 0.01 "$1" >/dev/null
}

# rtt ADDR: the median round-trip time (ms) of 20 pings from A.
rtt() {
	{ ip netns exec "$nsA" ping -n -c 20 -i 0.2 "$1" || true; } |
		sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' | sort -g |
		awk '{a[NR]=$1} END {if (!NR) {print "n/a"; exit} m = NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'
}

# tput ADDR STREAMS: TCP throughput (Mbit/s, receiver side) from A to ADDR.
tput() {
	local out
	if ! out=$(timeout $((duration + 30)) ip netns exec "$nsA" iperf3 -c "$1" -P "$2" -t "$duration" --connect-timeout 5000 -J); then
		log "iperf3 -c $1 -P $2 failed: $(jq -r '.error // empty' <<<"$out" 2>/dev/null)"
		echo "n/a"
		return
	fi
	jq -r '.end.sum_received.bits_per_second / 1e6 | floor' <<<"$out"
}

# median: the median of the integers on stdin.
median() { sort -n | awk '{a[NR]=$1} END {if (!NR) {print "n/a"; exit} print NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

# startup IMPL: the median over $runs runs of the milliseconds from A's
# `wg-quick up` to its first ping reply from B's tunnel address; B stays up.
startup() {
	local impl=$1 s e t=()
	quick "$impl" "$nsB" up "$confB"
	for _ in $(seq "$runs"); do
		s=$(date +%s%N)
		quick "$impl" "$nsA" up "$confA"
		reach "$tunB" || log "$impl: no reply from $tunB within 10 s"
		e=$(date +%s%N)
		t+=($(((e - s) / 1000000)))
		quick "$impl" "$nsA" down "$confA"
		wait_gone "$ifA"
	done
	quick "$impl" "$nsB" down "$confB"
	wait_gone "$ifB"
	printf '%s\n' "${t[@]}" | median
}

# pid_of CMDLINE: the process whose command line, arguments joined by
# spaces, is CMDLINE.
pid_of() {
	local p c
	for p in /proc/[0-9]*; do
		c=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		if [[ $c == "$1 " ]]; then
			echo "${p#/proc/}"
			return
		fi
	done
}

vmrss() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# rss IMPL: "IDLE FULL", the device process's VmRSS in MiB before and after
# `wg setconf` of $peers peers, in a namespace with nothing but lo.
rss() {
	local impl=$1 cmdline pid idle full
	ip netns add "$nsR"
	ip -n "$nsR" link set lo up
	case $impl in
	ours)
		ip netns exec "$nsR" "$ours" userspace "$ifR"
		cmdline="$ours userspace --foreground $ifR"
		;;
	debian | stock)
		local bin=/usr/bin/wireguard-go
		[[ $impl == stock ]] && bin=$stock
		# Without -f it re-executes itself detached, with the same
		# arguments, and returns once the device exists.
		# Its banner ("Running wireguard-go is not required…") goes to
		# the log.
		ip netns exec "$nsR" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 LOG_LEVEL= "$bin" "$ifR" >"$work/wggo.log" 2>&1 ||
			{ cat "$work/wggo.log" >&2; return 1; }
		cmdline="$bin $ifR"
		;;
	esac
	for _ in $(seq 100); do
		[[ -S /var/run/wireguard/$ifR.sock ]] && break
		sleep 0.05
	done
	pid=$(pid_of "$cmdline")
	if [[ -z $pid ]]; then
		log "$impl: no process \"$cmdline\""
		echo "n/a n/a"
	else
		idle=$(vmrss "$pid")
		ip netns exec "$nsR" /usr/bin/wg setconf "$ifR" "$work/peers.conf"
		sleep 1
		full=$(vmrss "$pid")
		echo "$idle $full"
	fi
	ip -n "$nsR" link del "$ifR" 2>/dev/null || true
	wait_gone "$ifR" || { [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; }
	ip netns del "$nsR"
}

# One iperf3 server on B for every row, on all of B's addresses.
ip netns exec "$nsB" iperf3 -s -D -I "$work/iperf3.pid" --logfile "$work/iperf3.log"
for _ in $(seq 100); do
	ip netns exec "$nsB" ss -H -l -t -n 'sport = :5201' | grep -q . && break
	sleep 0.05
done

declare -A name t1 t4 lat mem0 mem up
impls=(veth debian)
[[ -n $stock ]] && impls+=(stock)
impls+=(ours)
name[veth]="bare veth (ceiling)"
name[debian]="Debian wireguard-go $debianver + reference wg-quick"
name[stock]="stock wireguard-go ($libver, reports $stockver) + reference wg-quick"
name[ours]="ours: wg-quick, embedded device ($libver)"

for impl in "${impls[@]}"; do
	addr=$tunB
	if [[ $impl == veth ]]; then
		addr=$underB
	else
		log "$impl: up"
		quick "$impl" "$nsB" up "$confB"
		quick "$impl" "$nsA" up "$confA"
	fi
	reach "$addr" || log "$impl: no reply from $addr within 10 s"
	log "$impl: ping"
	lat[$impl]=$(rtt "$addr")
	log "$impl: iperf3 ${duration}s, 1 stream"
	t1[$impl]=$(tput "$addr" 1)
	log "$impl: iperf3 ${duration}s, 4 streams"
	t4[$impl]=$(tput "$addr" 4)
	if [[ $impl != veth ]]; then
		quick "$impl" "$nsA" down "$confA"
		quick "$impl" "$nsB" down "$confB"
		wait_gone "$ifA"
		wait_gone "$ifB"
		log "$impl: start-up, $runs runs"
		up[$impl]=$(startup "$impl")
		log "$impl: memory with $peers peers"
		read -r "mem0[$impl]" "mem[$impl]" < <(rss "$impl")
	fi
done

echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), Linux $(uname -r); iperf3 ${duration} s per run; start-up median of $runs."
echo
echo "| implementation | TCP 1 stream (Mbit/s) | TCP 4 streams (Mbit/s) | ping RTT median (ms) | RSS idle (MiB) | RSS $peers peers (MiB) | up → first ping reply (ms) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for impl in "${impls[@]}"; do
	echo "| ${name[$impl]} | ${t1[$impl]} | ${t4[$impl]} | ${lat[$impl]} | ${mem0[$impl]:-—} | ${mem[$impl]:-—} | ${up[$impl]:-—} |"
done
if [[ -n $stocknote ]]; then
	echo
	echo "Stock wireguard-go row missing: $stocknote"
fi
