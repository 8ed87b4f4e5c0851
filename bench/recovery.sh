#!/usr/bin/env bash
# Store recovery benchmark (seed 000's table, on this machine).
#
#   bench/recovery.sh [--entries N] [--target PATH|zram] [--engines sync,threads,threads:32,aio,uring]
#                     [--runs 3] [--threads 8] [--json] [--no-fio] [--no-put]
#
# Formats a store of N 4 KiB slots on the target, fills every slot, then
# recovers it read-only with each engine, RUNS times, alternating engines,
# (threads:N is the threads engine with N workers; plain threads has --threads)
# and reports the median time, the header validation rate and the speedup
# against sync. Alongside: fio 4 KiB randread at QD 256 on the same target
# (the device's ceiling), and put throughput of 4 MiB objects against fio's
# sequential write. With --json, one line per engine.
set -euo pipefail

entries=524288
target=""
engines="sync,threads,threads:32,aio,uring"
runs=3
threads=8
json=0
fio_cmp=1
put_cmp=1
rawio=${RAWIO:-$(dirname "$0")/../build/release/tools/rawio}

while [ $# -gt 0 ]; do
	case $1 in
	--entries) entries=$2; shift ;;
	--target) target=$2; shift ;;
	--engines) engines=$2; shift ;;
	--runs) runs=$2; shift ;;
	--threads) threads=$2; shift ;;
	--json) json=1 ;;
	--no-fio) fio_cmp=0 ;;
	--no-put) put_cmp=0 ;;
	-h | --help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "recovery.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$rawio" ] || { echo "recovery.sh: $rawio not built (make build PRESET=release)" >&2; exit 1; }
log() { [ $json = 1 ] || echo "$@"; }

zram=0
made_file=""
cleanup() {
	if [ $zram = 1 ]; then echo 1 >/sys/block/zram0/reset 2>/dev/null || true; fi
	if [ -n "$made_file" ]; then rm -f "$made_file" "$made_file.put"; fi
}
trap cleanup EXIT

store_bytes=$(( entries * 4096 + 2 * (4096 + entries * 64) + (8 << 20) ))
if [ "$target" = zram ]; then
	[ "$(id -u)" = 0 ] || { echo "recovery.sh: zram needs root" >&2; exit 1; }
	modprobe zram 2>/dev/null || true
	[ -e /sys/block/zram0 ] || { echo "recovery.sh: no zram device" >&2; exit 1; }
	if [ "$(cat /sys/block/zram0/disksize)" != 0 ]; then
		echo "recovery.sh: /dev/zram0 is in use (disksize set); not resetting it" >&2
		exit 1
	fi
	echo $(( store_bytes + (1 << 30) )) >/sys/block/zram0/disksize
	zram=1
	target=/dev/zram0
	fmt_size=()
elif [ -z "$target" ]; then
	mkdir -p var/bench
	target=var/bench/recovery.img
	made_file=$target
	rm -f "$target"
	fmt_size=(--size "$store_bytes")
else
	fmt_size=(--size "$store_bytes")
fi

log "== store recovery: $entries entries of 4 KiB slots on $target ($(uname -r), $(nproc) cores, $(date -u +%F))"
"$rawio" store format "$target" --slot-size 4k --slots "$entries" "${fmt_size[@]}" --force
fill=$("$rawio" store fill "$target" --count "$entries" --fill-threads 8 --json)
log "fill: $(echo "$fill" | jq -r '"\(.puts) puts in \(.seconds | .*100 | round / 100) s (\(.puts_per_s | round) puts/s)"')"
stat=$("$rawio" store stat "$target" --json)
log "index: $(echo "$stat" | jq -r '"\(.index_bytes) bytes for \(.slot_count) slots = \(.index_bytes / .slot_count * 10 | round / 10) bytes/slot"')"

declare -A secs read_secs dropped
IFS=, read -r -a engs <<<"$engines"
for ((r = 1; r <= runs; r++)); do
	for e in "${engs[@]}"; do
		name=${e%%:*}
		nt=$threads
		[ "$name" = "$e" ] || nt=${e#*:}
		out=$("$rawio" store recover "$target" --engine "$name" --threads "$nt" --read-only --json)
		secs[$e]+="$(echo "$out" | jq .seconds) "
		read_secs[$e]+="$(echo "$out" | jq .read_seconds) "
		dropped[$e]=$(echo "$out" | jq '.dropped_mismatch + .dropped_corrupt + .dropped_io')
		n=$(echo "$out" | jq .entries)
		[ "$n" = "$entries" ] || { echo "recovery.sh: $e recovered $n of $entries" >&2; exit 1; }
	done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

fio_iops=""
if [ $fio_cmp = 1 ] && command -v fio >/dev/null; then
	fio_iops=$(fio --name=ceiling --filename="$target" --direct=1 --rw=randread --bs=4k \
		--iodepth=256 --ioengine=io_uring --runtime=10 --time_based \
		--size=$(( entries * 4096 )) --offset=$(( 1 << 20 )) --output-format=json |
		jq '.jobs[0].read.iops | round')
	fio_seq=$(fio --name=ceiling --filename="$target" --direct=1 --rw=read --bs=4k \
		--iodepth=256 --ioengine=io_uring --runtime=10 --time_based \
		--size=$(( entries * 4096 )) --offset=$(( 1 << 20 )) --output-format=json |
		jq '.jobs[0].read.iops | round')
	log "fio io_uring 4 KiB QD256 on the same target: randread $fio_iops IOPS, sequential read $fio_seq IOPS"
fi

sync_med=$(echo "${secs[sync]:-}" | median)
log ""
log "$(printf '%-8s %10s %12s %14s %9s %8s' engine median_s read_s headers/s speedup dropped)"
for e in "${engs[@]}"; do
	m=$(echo "${secs[$e]}" | median)
	rm_=$(echo "${read_secs[$e]}" | median)
	rate=$(awk -v n="$entries" -v s="$rm_" 'BEGIN {printf "%.0f", n / s}')
	sp=$(awk -v a="${sync_med:-0}" -v b="$m" 'BEGIN {if (a > 0) printf "%.2f", a / b; else print "-"}')
	if [ $json = 1 ]; then
		jq -cn --arg engine "$e" --argjson entries "$entries" --argjson seconds "$m" \
			--argjson read_seconds "$rm_" --argjson dropped "${dropped[$e]}" \
			--arg speedup "$sp" --arg fio "${fio_iops:-}" --arg runs "${secs[$e]}" \
			'{engine: $engine, entries: $entries, seconds: $seconds, read_seconds: $read_seconds,
			  headers_per_s: ($entries / $read_seconds | round), dropped: $dropped,
			  speedup: (if $speedup == "-" then null else ($speedup | tonumber) end),
			  fio_qd256_iops: (if $fio == "" then null else ($fio | tonumber) end),
			  runs: ($runs | split(" ") | map(select(. != "") | tonumber))}'
	else
		printf '%-8s %10.3f %12.3f %14s %9s %8s\n' "$e" "$m" "$rm_" "$rate" "$sp" "${dropped[$e]}"
	fi
done
if [ -n "$fio_iops" ] && [ -n "${read_secs[uring]:-}" ]; then
	rm_=$(echo "${read_secs[uring]}" | median)
	log "uring validation rate / fio QD256 IOPS: $(awk -v n="$entries" -v s="$rm_" -v f="$fio_iops" 'BEGIN {printf "%.2f", n / s / f}') of randread, $(awk -v n="$entries" -v s="$rm_" -v f="$fio_seq" 'BEGIN {printf "%.2f", n / s / f}') of sequential read (headers are read in slot order)"
fi

if [ $put_cmp = 1 ]; then
	# Put throughput: 4 MiB objects, against fio's 4 MiB sequential write on the same kind of target.
	pt=$target
	if [ $zram = 0 ]; then pt="${made_file:-$target}.put"; rm -f "$pt"; fi
	nobj=$(( ($([ $zram = 1 ] && echo $(( store_bytes / (4 << 20) )) || echo 256)) - 4 ))
	psize=()
	[ $zram = 1 ] || psize=(--size $(( (nobj + 4) * (4 << 20) )))
	"$rawio" store format "$pt" --slot-size 4M "${psize[@]}" --force
	put=$("$rawio" store fill "$pt" --count "$nobj" --obj-size $(( (4 << 20) - 4096 )) --fill-threads 4 --json)
	put_mbps=$(echo "$put" | jq '.mb_per_s | round')
	fio_mbps=""
	if [ $fio_cmp = 1 ]; then
		fio_mbps=$(fio --name=seqw --filename="$pt" --direct=1 --rw=write --bs=4M --iodepth=4 \
			--ioengine=io_uring --size=$(( nobj * (4 << 20) )) --offset=$(( 8 << 20 )) \
			--output-format=json | jq '.jobs[0].write.bw_bytes / 1e6 | round')
	fi
	log "put 4 MiB objects: $put_mbps MB/s; fio 4 MiB sequential write QD4: ${fio_mbps:--} MB/s"
	[ $zram = 1 ] || rm -f "$pt"
fi
