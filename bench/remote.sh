#!/usr/bin/env bash
# Remote devices (issue 16): the nbd engine and the cache in front of a network volume.
#
#   bench/remote.sh [--runtime S] [--runs N] [--entries N] [--delay-entries N]
#                   [--sections engine,multiconn,cache,drain-qd,store,store-delay]
#                   [--drain-qd 32,128] [--ab OLD_RAWIO]
#
# Every server is nbdkit on a unix socket in a temp dir (killed on exit):
#   engine     rawio bench (nbd engine, one connection) against fio --ioengine=nbd (one
#              connection per job) on the same nbdkit memory export: 4 KiB randread QD 1
#              and 32, 4 KiB randwrite QD 32, 1 MiB sequential write QD 4; RUNS runs
#              alternating rawio and fio, median IOPS, ratio rawio / fio
#   multiconn  the nbd engine with 4 connections against 1 (multi-conn), on the memory export
#              and on nbdkit file behind the delay filter (1 ms per read and write)
#   cache      backing = nbdkit file + delay filter (1 ms per read and write), cache device a
#              local file: 4 KiB random writes through the cache (rawio cache bench absorb,
#              32 writers) against the volume alone (QD 1 and QD 32), and a drain at
#              nr_batched_migration 32 against 1
#   drain-qd   the drain alone (32 MiB, batch 1 and 32) at each migration depth of
#              --drain-qd (--migrate-qd; default 32 and 128), alternating, with the
#              migration counters (batches, writes and the merge rate, flushes, the mean
#              number of backing writes in flight, seconds reading the cache device,
#              writing and flushing the backing): the goal is batch 32 >= 2x batch 1.
#              --ab OLD_RAWIO: each round runs OLD_RAWIO too, right after, and prints
#              its table and new / old beside
#   store      a store of ENTRIES 4 KiB slots on an nbdkit memory export, filled, recovered
#              read-only at QD 128 against QD 1 (one header read at a time)
#   store-delay  the same with DELAY_ENTRIES slots behind the delay filter (1 ms per request)
# Performance, not a test: prints a table; never fails on a number.
set -euo pipefail

runtime=3
runs=3
entries=131072
delay_entries=16384
sections=engine,multiconn,cache,drain-qd,store,store-delay
drain_qds=32,128
ab=
rawio=${RAWIO:-$(dirname "$0")/../build/release/tools/rawio}
while [ $# -gt 0 ]; do
	case $1 in
	--runtime) runtime=$2; shift ;;
	--runs) runs=$2; shift ;;
	--entries) entries=$2; shift ;;
	--delay-entries) delay_entries=$2; shift ;;
	--sections) sections=$2; shift ;;
	--drain-qd) drain_qds=$2; shift ;;
	--ab) ab=$2; shift ;;
	-h | --help) sed -n '2,28p' "$0"; exit 0 ;;
	*) echo "remote.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$rawio" ] || { echo "remote.sh: $rawio not built (make build PRESET=release)" >&2; exit 1; }
for t in nbdkit jq; do
	command -v $t >/dev/null || { echo "remote.sh: needs $t" >&2; exit 1; }
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/rawio-remote.XXXXXX")
cleanup() {
	local p
	for p in "$dir"/*.pid; do
		[ -s "$p" ] || continue
		kill -9 "$(cat "$p")" 2>/dev/null || true
		wait "$(cat "$p")" 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap cleanup EXIT

# serve NAME NBDKIT-ARGS...: nbdkit on $dir/NAME.sock; sets $uri.
serve() {
	local name=$1 i
	shift
	nbdkit -U "$dir/$name.sock" -P "$dir/$name.pid" --exit-with-parent "$@" 2>>"$dir/$name.log" &
	for i in $(seq 200); do [ -s "$dir/$name.pid" ] && break; sleep 0.05; done
	[ -s "$dir/$name.pid" ] || { cat "$dir/$name.log" >&2; exit 1; }
	uri="nbd+unix:///?socket=$dir/$name.sock"
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }
has() { [[ ",$sections," == *",$1,"* ]]; }

echo "== bench/remote.sh: $(date -u +%FT%TZ), $(uname -r), $(nproc) cores, runtime ${runtime}s, runs $runs"
echo "   uptime:$(uptime | sed 's/.*load/ load/')"

rawio_iops() { # URI RW BS QD CONNS [SIZE]: the nbd engine reaps from 1 on (its default)
	"$rawio" bench --file "$1" --rw "$2" --bs "$3" --qd "$4" --nbd-conns "$5" --size "${6:-1g}" \
		--runtime "${runtime}s" --ramp 1s --no-progress --json | jq '.iops | round'
}
fio_iops() { # URI RW BS QD
	fio --name=nbd --ioengine=nbd --uri="$1" --rw="$2" --bs="$3" --iodepth="$4" --size=1g \
		--runtime="$runtime" --ramp_time=1 --time_based --output-format=json |
		sed -n '/^{/,$p' | jq '(.jobs[0].read.iops + .jobs[0].write.iops) | round'
}

if has engine || has multiconn; then
	serve mem memory 2G
	mem=$uri
	# Written once, so that reads find data on both sides.
	"$rawio" bench --file "$mem" --rw write --bs 1m --qd 4 --size 1g --runtime 0 --ramp 0 \
		--no-progress >/dev/null
fi

if has engine; then
	command -v fio >/dev/null || { echo "remote.sh: needs fio" >&2; exit 1; }
	rows=("randread 4k 1" "randread 4k 32" "randwrite 4k 32" "write 1m 4")
	declare -A r f
	for ((i = 1; i <= runs; i++)); do
		for row in "${rows[@]}"; do
			read -r rw bs qd <<<"$row"
			r[$row]+="$(rawio_iops "$mem" "$rw" "$bs" "$qd" 1) "
			f[$row]+="$(fio_iops "$mem" "$rw" "$bs" "$qd") "
		done
	done
	echo ""
	echo "engine overhead: nbdkit memory 2G, one connection each, medians of $runs (IOPS);"
	echo "goal rawio / fio >= 1.00 on every row; per round: each round's rawio / fio"
	printf '%-22s %10s %10s %7s %6s   %s   %s | %s\n' row rawio fio ratio ">=1" "per round" \
		"rawio runs" "fio runs"
	for row in "${rows[@]}"; do
		read -r rw bs qd <<<"$row"
		a=$(echo "${r[$row]}" | median)
		b=$(echo "${f[$row]}" | median)
		pr=$(paste -d' ' <(echo "${r[$row]}" | tr ' ' '\n' | grep -v '^$') \
			<(echo "${f[$row]}" | tr ' ' '\n' | grep -v '^$') |
			awk '{printf "%.2f ", ($2 > 0 ? $1 / $2 : 0)}')
		above=$(echo "$pr" | tr ' ' '\n' | awk '$1 >= 1 {n++} END {print n + 0}')
		printf '%-22s %10s %10s %7s %6s   %s  %s| %s\n' "$rw $bs QD$qd" "$a" "$b" \
			"$(ratio "$a" "$b")" "$above/$runs" "$pr" "${r[$row]}" "${f[$row]}"
	done
fi

if has multiconn; then
	# The same rows behind a 1 ms delay: where one connection's server threads are the limit.
	truncate -s 256M "$dir/mc.img"
	serve mc --filter=delay file "$dir/mc.img" delay-read=1ms delay-write=1ms
	declare -A m
	declare -A ex=([memory]=$mem [delay]=$uri)
	rows=("memory randread 4k 32" "memory randwrite 4k 32" "delay randread 4k 32"
		"delay randwrite 4k 32")
	for ((i = 1; i <= runs; i++)); do
		for row in "${rows[@]}"; do
			read -r e rw bs qd <<<"$row"
			m[$row.1]+="$(rawio_iops "${ex[$e]}" "$rw" "$bs" "$qd" 1 256m) "
			m[$row.4]+="$(rawio_iops "${ex[$e]}" "$rw" "$bs" "$qd" 4 256m) "
		done
	done
	echo ""
	echo "multi-conn: the nbd engine with 4 connections (the default; one is filled to 16"
	echo "commands before the next is used) against 1, medians of $runs (IOPS)"
	printf '%-28s %10s %10s %8s   %s\n' row "1 conn" "4 conns" "4 / 1" "runs (1 | 4)"
	for row in "${rows[@]}"; do
		read -r e rw bs qd <<<"$row"
		a=$(echo "${m[$row.1]}" | median)
		b=$(echo "${m[$row.4]}" | median)
		printf '%-28s %10s %10s %8s   %s| %s\n' "$e $rw $bs QD$qd" "$a" "$b" \
			"$(ratio "$b" "$a")" "${m[$row.1]}" "${m[$row.4]}"
	done
fi

if has cache; then
	truncate -s 512M "$dir/vol.img"
	serve vol --filter=delay file "$dir/vol.img" delay-read=1ms delay-write=1ms
	vol=$uri
	cimg=$dir/cache.img
	declare -A c
	for ((i = 1; i <= runs; i++)); do
		c[vol1]+="$(rawio_iops "$vol" randwrite 4k 1 1 256m) "
		c[vol32]+="$(rawio_iops "$vol" randwrite 4k 32 4 256m) "
		j=$("$rawio" cache bench absorb "$cimg" "$vol" --size 256m --bytes 64m --force --json)
		c[absorb]+="$(echo "$j" | jq '.iops | round') "
		"$rawio" cache bench drain "$cimg" "$vol" --size 256m --bytes 32m --batch 1,32 --force --json \
			>"$dir/drain.json"
		c[drain1]+="$(jq -s 'map(select(.nr_batched_migration == 1))[0].seconds' "$dir/drain.json") "
		c[drain32]+="$(jq -s 'map(select(.nr_batched_migration == 32))[0].seconds' "$dir/drain.json") "
	done
	v1=$(echo "${c[vol1]}" | median)
	v32=$(echo "${c[vol32]}" | median)
	ab=$(echo "${c[absorb]}" | median)
	d1=$(echo "${c[drain1]}" | median)
	d32=$(echo "${c[drain32]}" | median)
	echo ""
	echo "cache over a remote volume: nbdkit file + delay 1 ms (read, write), cache = local file"
	printf '%-48s %12s   %s\n' "volume alone, 4 KiB randwrite QD 1 (IOPS)" "$v1" "${c[vol1]}"
	printf '%-48s %12s   %s\n' "volume alone, 4 KiB randwrite QD 32, 4 conns" "$v32" "${c[vol32]}"
	printf '%-48s %12s   %s\n' "through the cache, 32 writers (IOPS)" "$ab" "${c[absorb]}"
	printf '%-48s %12s\n' "  cache / volume QD 1" "$(ratio "$ab" "$v1")x"
	printf '%-48s %12s\n' "  cache / volume QD 32" "$(ratio "$ab" "$v32")x"
	printf '%-48s %12s   %s\n' "drain 32 MiB, nr_batched_migration 1 (s)" "$d1" "${c[drain1]}"
	printf '%-48s %12s   %s\n' "drain 32 MiB, nr_batched_migration 32 (s)" "$d32" "${c[drain32]}"
	printf '%-48s %12s\n' "  batch 32 speedup" "$(ratio "$d1" "$d32")x"
fi

if has drain-qd; then
	truncate -s 512M "$dir/dq.img"
	serve dq --filter=delay file "$dir/dq.img" delay-read=1ms delay-write=1ms
	declare -A q
	bins=(new)
	declare -A bin=([new]=$rawio)
	if [ -n "$ab" ]; then
		[ -x "$ab" ] || { echo "remote.sh: --ab $ab: not an executable" >&2; exit 1; }
		bins+=(old)
		bin[old]=$ab
	fi
	qds=${drain_qds//,/ }
	for ((i = 1; i <= runs; i++)); do
		for qd in $qds; do
			for v in "${bins[@]}"; do
				"${bin[$v]}" cache bench drain "$dir/dq-cache.img" "$uri" --size 256m \
					--bytes 32m --batch 1,32 --migrate-qd "$qd" --force --json \
					>"$dir/dq.json"
				for b in 1 32; do
					sel="map(select(.nr_batched_migration == $b))[0]"
					q[$v.$qd.$b]+="$(jq -s "$sel.seconds" "$dir/dq.json") "
					q[$v.$qd.$b.info]="$(jq -s -r "$sel |
						\"\\(.batches) batches, \\(.backing_writes) writes for \\(.migrate_blocks // .blocks) blocks (\\((1 - .backing_writes / (.migrate_blocks // .blocks)) * 1000 | round / 10)% merged), \\(.backing_flushes) flushes\" +
						(if .mean_in_flight then \", \\(.mean_in_flight * 10 | round / 10) in flight; s: read \\(.read_seconds * 1000 | round / 1000) write \\(.write_seconds * 1000 | round / 1000) flush \\(.flush_seconds * 1000 | round / 1000)\" else \"\" end)" \
						"$dir/dq.json")"
				done
			done
		done
	done
	for v in "${bins[@]}"; do
		echo ""
		echo "drain 32 MiB over nbdkit file + delay 1 ms, by migration depth (--migrate-qd),"
		echo "seconds, $v binary (${bin[$v]}); speedup: of the medians; paired: median of"
		echo "each run's batch 1 / batch 32; goal batch 32 >= 2x batch 1"
		printf '%-8s %8s %8s %8s %7s %5s   %s\n' depth batch1 batch32 speedup paired ">=2" \
			"runs (batch 1 | batch 32)"
		for qd in $qds; do
			a=$(echo "${q[$v.$qd.1]}" | median)
			b=$(echo "${q[$v.$qd.32]}" | median)
			pr=$(paste -d' ' <(echo "${q[$v.$qd.1]}" | tr ' ' '\n' | grep -v '^$') \
				<(echo "${q[$v.$qd.32]}" | tr ' ' '\n' | grep -v '^$') |
				awk '{printf "%.3f ", $1 / $2}')
			p=$(echo "$pr" | median)
			above=$(echo "$pr" | tr ' ' '\n' | awk '$1 >= 2 {n++} END {print n + 0}')
			printf '%-8s %8.3f %8.3f %7sx %6.2fx %5s   %s| %s\n' "QD $qd" "$a" "$b" \
				"$(ratio "$a" "$b")" "$p" "$above/$runs" \
				"$(for x in ${q[$v.$qd.1]}; do printf '%.2f ' "$x"; done)" \
				"$(for x in ${q[$v.$qd.32]}; do printf '%.2f ' "$x"; done)"
			printf '%-10s batch 1: %s\n' "" "${q[$v.$qd.1.info]}"
			printf '%-10s batch 32: %s\n' "" "${q[$v.$qd.32.info]}"
		done
	done
	if [ -n "$ab" ]; then
		echo ""
		echo "new / old: old median seconds / new median seconds (> 1: new is faster)"
		for qd in $qds; do
			for b in 1 32; do
				printf '  QD %-4s batch %-3s %6sx\n' "$qd" "$b" \
					"$(ratio "$(echo "${q[old.$qd.$b]}" | median)" \
						"$(echo "${q[new.$qd.$b]}" | median)")"
			done
		done
	fi
fi

# store_run TAG ENTRIES DELAY: a store of ENTRIES 4 KiB slots on nbdkit memory (behind the delay
# filter when DELAY is not 0), filled, recovered read-only at QD 128 and at QD 1.
store_run() {
	local tag=$1 n=$2 delay=$3 bytes fill a b i qd j
	local -A s
	bytes=$((n * 4096 + 2 * (4096 + n * 64) + (8 << 20)))
	if [ "$delay" = 0 ]; then
		serve "$tag" memory "$bytes"
	else
		serve "$tag" --filter=delay memory "$bytes" delay-read="$delay" delay-write="$delay"
	fi
	"$rawio" store format "$uri" --slot-size 4k --slots "$n" --force >/dev/null
	fill=$("$rawio" store fill "$uri" --count "$n" --fill-threads 8 --json)
	for ((i = 1; i <= runs; i++)); do
		for qd in 128 1; do
			j=$("$rawio" store recover "$uri" --qd $qd --read-only --json)
			[ "$(echo "$j" | jq .entries)" = "$n" ] ||
				{ echo "remote.sh: QD $qd recovered $(echo "$j" | jq .entries) of $n" >&2; exit 1; }
			s[$qd]+="$(echo "$j" | jq '.read_seconds * 1000 | round / 1000') "
		done
	done
	a=$(echo "${s[128]}" | median)
	b=$(echo "${s[1]}" | median)
	echo ""
	echo "store recovery on an NBD export: $n entries (4 KiB slots), nbdkit memory, delay $delay;" \
		"fill: $(echo "$fill" | jq -r '"\(.puts_per_s | round) puts/s"')"
	printf '%-34s %10s %12s   %s\n' engine read_s headers/s runs
	printf '%-34s %10s %12s   %s\n' "nbd QD 128" "$a" "$(awk -v n="$n" -v s="$a" 'BEGIN {printf "%.0f", n / s}')" "${s[128]}"
	printf '%-34s %10s %12s   %s\n' "nbd QD 1 (one header at a time)" "$b" "$(awk -v n="$n" -v s="$b" 'BEGIN {printf "%.0f", n / s}')" "${s[1]}"
	printf '%-34s %10s\n' "  speedup" "$(ratio "$b" "$a")x"
	j=$(cat "$dir/$tag.pid")
	kill -9 "$j" 2>/dev/null || true
	wait "$j" 2>/dev/null || true
	rm -f "$dir/$tag.pid"
}
# No added latency (a unix socket: what is left is CPU), and 1 ms per request (a network).
has store && store_run store "$entries" 0
has store-delay && store_run store-delay "$delay_entries" 1ms

echo ""
echo "   uptime:$(uptime | sed 's/.*load/ load/')"
