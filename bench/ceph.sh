#!/usr/bin/env bash
# rawio on a Ceph RBD image, on a throwaway single-node cluster of its own
# (scripts/ceph-cluster.sh; stopped on every exit path).
#
#   bench/ceph.sh [--runtime SECONDS] [--rounds N] [--qd1-rounds N]
#                 [--only engine,jobs,cache,fs,pwl,recovery,librbd]
#                 [--compare RAWIO_B] [--cache-variant '[@DIR] ARGS']... [--trace]
#                 [--cache-size MIB]
#
# engine    rawio bench (the rbd engine) against fio's rbd engine on the same image:
#           4 KiB randread and randwrite at QD 1 and 32, 1 MiB sequential write at
#           QD 8. The two alternate within each row, rawio first in odd rounds and fio
#           first in even ones (a run inherits the OSD's debt from the one before it:
#           BlueStore's deferred small writes, RocksDB compaction; give an even
#           --rounds); the table shows medians of IOPS and of CPU per I/O (user +
#           system of the whole process, librbd's threads included, over the I/Os it
#           did: bash's `time`) and the ratios of the medians, the goal's >= 1.00 and
#           <= 1.00. The goal table alone: --only engine --rounds 4 (about 5 minutes).
#           --qd1-rounds N: N more alternating rounds of the two QD 1 rows only (their
#           rounds overlap by more than the gap: 2,560-3,889 against 1,910-3,815 IOPS in
#           the fourth session's quiet pass), in the same medians; every row also prints
#           its per-round ratios (each round's pair ran back to back) and in how many
#           rounds rawio was ahead. Quiet-pass command: --only engine --rounds 2
#           --qd1-rounds 6 --runtime 4 (about 5 minutes).
# jobs      4 contexts writing one image that has the exclusive-lock feature (4 KiB
#           randwrite, QD 8 each): rawio bench --jobs 4 (one device, so one image handle)
#           against fio --numjobs 4 (a handle per job). With --compare RAWIO_B, that
#           rawio binary (another build) runs too, alternating with the first.
# cache     32 writers, each a 4 KiB random write then a flush (the flush returns
#           when the write survives a crash of the client process): the rawio cache
#           (a local file) in front of the image (rawio cache bench fsync), against
#           the image alone and against librbd's client cache (rbd cache = true,
#           writeback), both with fio (numjobs 32, iodepth 1, fsync 1). Latency p50/p99/
#           p99.9 (medians over the rounds): rawio's is of one write + flush pair; fio
#           reports the write's and the flush's apart (columns w: and f:). The log is sized
#           for the burst: a flush seals the open segment, full or not (about 15 writes here),
#           and a sealed segment holds a whole slot until written back, so the cache file
#           (128 KiB segments) gets 4,000 slots per second of run (--cache-size MIB sets it),
#           2.3x the 1,750 segments/s the quiet pass logged at 28,070 pairs/s; the rows say
#           its size (rawio_cache_2560m for 5 s). The line "segments logged/written back"
#           checks it (0 written back is the burst the row means; stalled writers waited for a
#           RAM buffer or a log slot), and a warning follows a row whose log filled. The row
#           rawio_full is what a user sees when the burst outlasts the cache: 256 MiB (2,046
#           slots), full after about a second, then writers wait for write-back to the image.
#           disk_floor: fio on the cache's disk, 64 KiB write + fdatasync at QD 1 (one commit
#           of the cache, which commits one group at a time), in the same rounds: the pair's
#           p99 cannot go below this disk's. --cache-variant '[@DIR] ARGS' (repeatable) adds
#           rawio rows with those `rawio cache bench fsync` arguments instead of the default's
#           (`--segment-size 128k`), run in the same rounds, e.g. an A/B of tunables:
#           --cache-variant '--segment-size 128k --tunable commit_qd=2'; with @DIR its cache
#           file (of the same size) lives in DIR (e.g. @/dev/shm: RAM, the cache's own
#           queueing without the disk). The goal table alone: --only cache --rounds 3 (about
#           2 minutes quiet). With --trace, one more run of the first row, before the
#           rounds and left out of them, runs under `perf record -a` (io_uring and block
#           tracepoints): the time from submission to completion of the cache's own device
#           requests (segment writes, fdatasyncs) and of the disk's writes and flushes.
#           --compare RAWIO_B: the goal row again with that binary (row rawio_b, same
#           file and arguments), the rawio rows in reverse order every other round (an
#           A/B of two builds). Every rawio row also prints a flush's mean time split
#           (rawio_cache_stat.barrier_*_ns): the lock, waiting for its seal, the commit,
#           the wake-up ("-" for a build without it).
# fs        a filesystem through the NBD export: ext4 made on `rawio export --attach` of
#           the image alone (rbd engine) and of a rawio cache in front of it (default
#           tunables, write-back on), 8 fio jobs x 4 KiB random writes into a 16 MiB file
#           each, fsync after every write. Needs root, nbdkit, nbdfuse and /dev/fuse.
# pwl       does this librbd load the persistent write-log cache (pwl_cache plugin,
#           rbd_persistent_cache_mode = ssd)? One fio run says.
# librbd    the 1 MiB sequential write row at QD 8 (rawio bench, rbd engine) with librbd's
#           copy and dispatch options set on the path, every variant named in full so the
#           rows do not depend on rawio's defaults: librbd's defaults
#           (rbd_disable_zero_copy_writes=true, rbd_non_blocking_aio=true), zero-copy writes
#           (zero_copy: ...writes=false), requests started on the caller's thread
#           (caller: ...aio=false), both, and fio's rbd engine; the order rotates every
#           round. Medians, min-max of the rounds, CPU per I/O as in engine. Not in the
#           defaults (an A/B, not a goal table): --only librbd --rounds 6.
# recovery  a store of 4 KiB slots on an image, filled, recovered with the rbd
#           engine one header at a time (--qd 1) and batched (--qd 128).
# Prints `uptime` before each part: the machine is shared. The defaults print every goal
# table of issue 20 in one run (engine, cache with the goal lines, pwl, recovery).
set -euo pipefail

runtime=5
rounds=2
qd1_rounds=0
only=engine,jobs,cache,fs,pwl,recovery
rawio_b=
variants=()
cache_mb=
trace=
rawio=${RAWIO:-$(dirname "$0")/../build/release/tools/rawio}
root=$(cd "$(dirname "$0")/.." && pwd)

while [ $# -gt 0 ]; do
	case $1 in
	--runtime) runtime=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--qd1-rounds) qd1_rounds=$2; shift ;;
	--only) only=$2; shift ;;
	--compare) rawio_b=$2; shift ;;
	--cache-variant) variants+=("$2"); shift ;;
	--cache-size) cache_mb=$2; shift ;;
	--trace) trace=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
	*) echo "ceph.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$rawio" ] || { echo "ceph.sh: $rawio not built (make build PRESET=release)" >&2; exit 1; }
for t in fio jq rbd; do
	command -v $t >/dev/null || { echo "ceph.sh: needs $t" >&2; exit 1; }
done
want() { [[ ",$only," == *",$1,"* ]]; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rawio-ceph-bench.XXXXXX")
cluster=$tmp/cluster
mnt=$tmp/mnt
xpid=
outside=() # cache files of @DIR variants
cleanup() {
	# The fs part's mount and export go before the cluster they write to.
	mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
	[ -n "$xpid" ] && kill -TERM "$xpid" 2>/dev/null && wait "$xpid"
	"$root/scripts/ceph-cluster.sh" stop "$cluster" || true
	rm -rf "$tmp" "${outside[@]}"
}
trap cleanup EXIT
echo "== cluster: $("$root/scripts/ceph-cluster.sh" start "$cluster" --no-mgr)"
conf=$cluster/ceph.conf
export CEPH_CONF=$conf

median() {
	tr ' ' '\n' | grep -v '^$' | sort -g |
		awk '{a[NR]=$1} END {print NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'
}
# cpu_of CMD...: run CMD (stdout to $tmp/out); prints its user+system seconds.
cpu_of() {
	local TIMEFORMAT='%U %S' t
	t=$({ time "$@" >"$tmp/out" 2>"$tmp/err"; } 2>&1) || { cat "$tmp/err" >&2; return 1; }
	awk '{print $1 + $2}' <<<"$t"
}

# per_io CPU_SECONDS IOS: microseconds of CPU per I/O. Both tools count I/Os after a 1 s
# ramp; the ramp's I/Os are added at the measured rate (the CPU covers it too).
per_io() {
	awk -v c="$1" -v n="$2" -v t="$runtime" 'BEGIN { printf "%.1f", c * 1e6 / (n * (t + 1) / t) }'
}

if want engine; then
	rbd create --size 1G --image-feature layering rbd/eng
	# Written once, so reads read data (fio on an empty image reads holes).
	fio --name=fill --ioengine=rbd --pool=rbd --rbdname=eng --clientname=admin --rw=write \
		--bs=4m --iodepth=8 --size=1G --output=/dev/null
	echo "== engine: rawio bench (rbd engine) vs fio (rbd engine), ${runtime}s per run, $rounds rounds; $(uptime)"
	rows=("randread 4k 1" "randread 4k 32" "randwrite 4k 1" "randwrite 4k 32" "write 1m 8")
	declare -A r_iops r_cpu f_iops f_cpu pair ahead n_pairs
	# rawio's default reap follows the engine: from 1 completion on for rbd, as fio's
	# iodepth_batch_complete_min (RAWIO_CAP_BATCH_REAP; docs/perf.md).
	run_rawio() {
		c=$(cpu_of "$rawio" bench --file "rbd:rbd/eng:conf=$conf" --engine rbd --rw "$rw" \
			--bs "$bs" --qd "$qd" --runtime "${runtime}s" --ramp 1s --json --no-progress)
		ios=$(jq .ios "$tmp/out")
		r_iops[$row]+="$(jq .iops "$tmp/out") "
		r_cpu[$row]+="$(per_io "$c" "$ios") "
	}
	run_fio() {
		c=$(cpu_of fio --name=b --ioengine=rbd --pool=rbd --rbdname=eng --clientname=admin \
			--rw="$rw" --bs="$bs" --iodepth="$qd" --size=1G --runtime="$runtime" \
			--ramp_time=1 --time_based --output-format=json)
		iops=$(jq '.jobs[0] | .read.iops + .write.iops' "$tmp/out")
		ios=$(jq '.jobs[0] | .read.total_ios + .write.total_ios' "$tmp/out")
		f_iops[$row]+="$iops "
		f_cpu[$row]+="$(per_io "$c" "$ios") "
	}
	# run_pair ROUND: the row's pair back to back, rawio first in odd rounds; its ratio.
	run_pair() {
		local a b
		if (($1 % 2)); then run_rawio; run_fio; else run_fio; run_rawio; fi
		a=$(awk '{print $NF}' <<<"${r_iops[$row]}") b=$(awk '{print $NF}' <<<"${f_iops[$row]}")
		pair[$row]+="$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", a/b}') "
		n_pairs[$row]=$((${n_pairs[$row]:-0} + 1))
		ahead[$row]=$((${ahead[$row]:-0} + $(awk -v a="$a" -v b="$b" 'BEGIN{print (a >= b)}')))
	}
	for ((r = 1; r <= rounds; r++)); do
		for row in "${rows[@]}"; do
			read -r rw bs qd <<<"$row"
			run_pair $r
		done
		echo "   round $r done; $(uptime)"
	done
	for ((r = rounds + 1; r <= rounds + qd1_rounds; r++)); do
		for row in "randread 4k 1" "randwrite 4k 1"; do
			read -r rw bs qd <<<"$row"
			run_pair $r
		done
		echo "   QD 1 round $r done; $(uptime)"
	done
	printf '%-16s %10s %10s %7s %12s %12s %7s  %s\n' row rawio_iops fio_iops ratio \
		rawio_us/io fio_us/io ratio "rounds ahead, pair ratio min-median-max"
	for row in "${rows[@]}"; do
		ri=$(median <<<"${r_iops[$row]}") fi=$(median <<<"${f_iops[$row]}")
		rc=$(median <<<"${r_cpu[$row]}") fc=$(median <<<"${f_cpu[$row]}")
		printf '%-16s %10.0f %10.0f %6.2fx %12s %12s %6.2fx  %s of %s, %s-%s-%s\n' \
			"${row// /_}" "$ri" "$fi" "$(awk -v a="$ri" -v b="$fi" 'BEGIN{print a/b}')" \
			"$rc" "$fc" "$(awk -v a="$rc" -v b="$fc" 'BEGIN{print a/b}')" \
			"${ahead[$row]}" "${n_pairs[$row]}" \
			"$(tr ' ' '\n' <<<"${pair[$row]}" | grep -v '^$' | sort -g | head -1)" \
			"$(median <<<"${pair[$row]}")" \
			"$(tr ' ' '\n' <<<"${pair[$row]}" | grep -v '^$' | sort -g | tail -1)"
	done
	echo "rawio/fio IOPS of each round's pair:"
	for row in "${rows[@]}"; do
		printf '  %-16s %s\n' "${row// /_}" "${pair[$row]}"
	done
	echo "IOPS of every round (rawio / fio):"
	for row in "${rows[@]}"; do
		printf '  %-16s %s/ %s\n' "${row// /_}" "${r_iops[$row]}" "${f_iops[$row]}"
	done
	echo "CPU us per I/O of every round (rawio / fio):"
	for row in "${rows[@]}"; do
		printf '  %-16s %s/ %s\n' "${row// /_}" "${r_cpu[$row]}" "${f_cpu[$row]}"
	done
	rbd rm --no-progress rbd/eng
fi

if want librbd; then
	rbd create --size 1G --image-feature layering rbd/lopt
	fio --name=fill --ioengine=rbd --pool=rbd --rbdname=lopt --clientname=admin --rw=write \
		--bs=4m --iodepth=8 --size=1G --output=/dev/null
	echo "== librbd: 1 MiB write QD 8, rawio bench with librbd options against fio, ${runtime}s per run, $rounds rounds; $(uptime)"
	names=(defaults zero_copy caller both fio)
	declare -A lo_opts=([defaults]=":rbd_disable_zero_copy_writes=true:rbd_non_blocking_aio=true"
		[zero_copy]=":rbd_disable_zero_copy_writes=false:rbd_non_blocking_aio=true"
		[caller]=":rbd_disable_zero_copy_writes=true:rbd_non_blocking_aio=false"
		[both]=":rbd_disable_zero_copy_writes=false:rbd_non_blocking_aio=false")
	declare -A l_iops l_cpu
	for ((r = 1; r <= rounds; r++)); do
		for ((k = 0; k < ${#names[@]}; k++)); do
			n=${names[(k + r - 1) % ${#names[@]}]}
			if [ "$n" = fio ]; then
				c=$(cpu_of fio --name=b --ioengine=rbd --pool=rbd --rbdname=lopt \
					--clientname=admin --rw=write --bs=1m --iodepth=8 --size=1G \
					--runtime="$runtime" --ramp_time=1 --time_based --output-format=json)
				l_iops[$n]+="$(jq '.jobs[0].write.iops' "$tmp/out") "
				ios=$(jq '.jobs[0].write.total_ios' "$tmp/out")
			else
				c=$(cpu_of "$rawio" bench --file "rbd:rbd/lopt:conf=$conf${lo_opts[$n]}" \
					--engine rbd --rw write --bs 1m --qd 8 --runtime "${runtime}s" --ramp 1s \
					--json --no-progress)
				l_iops[$n]+="$(jq .iops "$tmp/out") "
				ios=$(jq .ios "$tmp/out")
			fi
			l_cpu[$n]+="$(per_io "$c" "$ios") "
		done
		echo "   round $r done; $(uptime)"
	done
	base=$(median <<<"${l_iops[defaults]}") basec=$(median <<<"${l_cpu[defaults]}")
	printf '%-10s %8s %10s %7s %8s %7s  %s\n' variant iops min-max vs_dflt us/io vs_dflt \
		"IOPS of every round"
	for n in "${names[@]}"; do
		v=$(median <<<"${l_iops[$n]}") c=$(median <<<"${l_cpu[$n]}")
		printf '%-10s %8.1f %10s %6.2fx %8s %6.2fx  %s\n' "$n" "$v" \
			"$(tr ' ' '\n' <<<"${l_iops[$n]}" | grep -v '^$' | sort -g |
				awk 'NR == 1 {a = $1} {b = $1} END {printf "%.0f-%.0f", a, b}')" \
			"$(awk -v a="$v" -v b="$base" 'BEGIN{print a/b}')" "$c" \
			"$(awk -v a="$c" -v b="$basec" 'BEGIN{print a/b}')" "${l_iops[$n]}"
	done
	rbd rm --no-progress rbd/lopt
fi

if want jobs; then
	rbd create --size 1G --image-feature layering,exclusive-lock rbd/jobs
	echo "== jobs: 4 contexts x 4 KiB randwrite QD 8 on one exclusive-lock image, ${runtime}s per run, $rounds rounds; $(uptime)"
	declare -A j_iops
	bins=("$rawio")
	[ -n "$rawio_b" ] && bins+=("$rawio_b")
	for ((r = 1; r <= rounds; r++)); do
		for b in "${bins[@]}"; do
			j_iops[$b]+="$("$b" bench --file "rbd:rbd/jobs:conf=$conf" --engine rbd \
				--rw randwrite --bs 4k --qd 8 --jobs 4 --runtime "${runtime}s" --ramp 1s \
				--json --no-progress | jq .iops) "
		done
		j_iops[fio]+="$(fio --name=j --ioengine=rbd --pool=rbd --rbdname=jobs --clientname=admin \
			--rw=randwrite --bs=4k --iodepth=8 --numjobs=4 --group_reporting --size=1G \
			--runtime="$runtime" --ramp_time=1 --time_based --output-format=json |
			jq '.jobs[0].write.iops') "
	done
	printf '%-40s %10s  %s\n' setup iops_median runs
	for b in "${bins[@]}" fio; do
		printf '%-40s %10.0f  %s\n' "$b" "$(median <<<"${j_iops[$b]}")" "${j_iops[$b]}"
	done
	rbd rm --no-progress rbd/jobs
fi

# cache_file PATH MIB: a cache file, written in full first, as a partition or a preallocated
# file would be: in a sparse file every segment write allocates blocks, so every cache flush
# (fdatasync) also commits the filesystem's journal, and on a disk shared with other writers
# that commit waits behind theirs (measured: 1.13x the flushes per second; docs/perf.md).
# 4,000 slots of 128 KiB per second of run (the top of this file), in whole 256 MiB.
: "${cache_mb:=$(((runtime * 4000 * 128 / 1024 + 255) / 256 * 256))}"
cache_file() {
	[ -f "$1" ] || dd if=/dev/zero of="$1" bs=4M count=$(($2 / 4)) oflag=direct status=none
}

if want cache; then
	rbd create --size 1G --image-feature layering rbd/cache
	sed 's/^rbd cache = false$/rbd cache = true/' "$conf" >"$tmp/cache.conf"
	echo "rbd cache writethrough until flush = false" >>"$tmp/cache.conf"
	[ ${#variants[@]} -gt 0 ] || variants=("--segment-size 128k")
	# Every variant's row, arguments and cache file; then the full log's row.
	rows=() vargs=() vfile=()
	for ((v = 0; v < ${#variants[@]}; v++)); do
		rows+=("$( ((v)) && echo "rawio_v$((v + 1))" || echo "rawio_cache_${cache_mb}m")")
		a=${variants[v]} f=$tmp/cache.img
		if [[ $a == @* ]]; then
			f=${a%% *}
			f=${f#@}/rawio-ceph-cache.$$.$v.img
			a=${a#* }
			[[ ${variants[v]} == *" "* ]] || a=
			outside+=("$f")
		fi
		vargs+=("$a") vfile+=("$f")
		cache_file "$f" "$cache_mb"
	done
	vbin=()
	for ((v = 0; v < ${#rows[@]}; v++)); do vbin+=("$rawio"); done
	# --compare: the goal row again with the other binary, in the same rounds.
	if [ -n "$rawio_b" ]; then
		rows+=(rawio_b) vargs+=("${vargs[0]}") vfile+=("${vfile[0]}") vbin+=("$rawio_b")
	fi
	rows+=(rawio_full) vargs+=("--segment-size 128k") vfile+=("$tmp/small.img") vbin+=("$rawio")
	cache_file "$tmp/small.img" 256
	main=${rows[0]}
	echo "== cache: 32 writers x (4 KiB random write + flush), ${runtime}s per run, $rounds rounds; $(uptime)"
	declare -A c_iops c_p50 c_p99 c_p999 c_log c_slots c_filled c_split
	# fio_sync SETUP CONF: one fio run; IOPS and the write's and flush's percentiles (us).
	fio_sync() {
		local o
		o=$(CEPH_CONF=$2 fio --name=s --ioengine=rbd --pool=rbd --rbdname=cache \
			--clientname=admin --rw=randwrite --bs=4k --iodepth=1 --numjobs=32 --thread \
			--fsync=1 --size=1G --runtime="$runtime" --time_based --group_reporting \
			--percentile_list=50:99:99.9 --output-format=json)
		fio_lat "$1" "$o"
	}
	# fio_lat ROW JSON: a fio run's IOPS and its write's and flush's percentiles (us) into ROW.
	fio_lat() {
		local q k v
		c_iops[$1]+="$(jq '.jobs[0].write.iops' <<<"$2") "
		for q in 50 99 99.9; do
			k=$(printf '%.6f' "$q")
			v="w:$(jq ".jobs[0].write.clat_ns.percentile[\"$k\"] / 1000 | floor" <<<"$2")"
			v+="/f:$(jq "(.jobs[0].sync.lat_ns.percentile[\"$k\"] // 0) / 1000 | floor" <<<"$2")"
			case $q in 50) c_p50[$1]+="$v " ;; 99) c_p99[$1]+="$v " ;; *) c_p999[$1]+="$v " ;; esac
		done
	}
	# rawio_sync ROW ARGS FILE [TRACE [BINARY]]: one `rawio cache bench fsync` run on the
	# cache file FILE, then the log's counters read back from the cache (slots, segments
	# logged / written back to the image during the run).
	rawio_sync() {
		local o st pre=() bin=${5:-$rawio}
		# The shell writes its pid, then becomes rawio: the trace keeps that process's requests.
		[ -n "${4:-}" ] && pre=(perf record -q -a -o "$tmp/perf.data" -e io_uring:io_uring_submit_req
			-e io_uring:io_uring_complete -e block:block_rq_issue -e block:block_rq_complete --
			sh -c 'echo $$ >"$0"; exec "$@"' "$tmp/traced.pid")
		# shellcheck disable=SC2086 # ARGS are words
		o=$("${pre[@]}" "$bin" cache bench fsync "$3" "rbd:rbd/cache:conf=$conf" --force \
			--writers 32 --seconds "$runtime" $2 --json | jq -c 'select(.name == "fsync")')
		st=$("$rawio" cache stat "$3" "rbd:rbd/cache:conf=$conf" --json)
		c_iops[$1]+="$(jq .iops <<<"$o") "
		c_p50[$1]+="$(jq '.p50_us | floor' <<<"$o") "
		c_p99[$1]+="$(jq '.p99_us | floor' <<<"$o") "
		c_p999[$1]+="$(jq '.p999_us | floor' <<<"$o") "
		c_split[$1]+="$(jq -r 'if .flush_commit_us then "\(.flush_lock_us | floor)/\(.flush_queue_us | floor)/\(.flush_commit_us | floor)/\(.flush_wake_us | floor)" else "-" end' <<<"$o") "
		c_log[$1]+="$(jq -r '"\(.next_id - 1)/\(.last_migrated)"' <<<"$st")/$(jq -r \
			'"\(1 / .segments_per_flush | floor)/\(.write_stalls)"' <<<"$o") "
		c_slots[$1]=$(jq .nr_segments <<<"$st")
		[ "$(jq .last_migrated <<<"$st")" = 0 ] || c_filled[$1]+="$(($(jq .last_migrated <<<"$st"))) "
	}
	# disk_floor: the cache's disk alone, one commit's I/O at a time (64 KiB write, then
	# fdatasync: fio's write latency w: and fdatasync latency f:), on the written 256 MiB file.
	disk_floor() {
		local o
		o=$(fio --name=floor --filename="$tmp/small.img" --rw=write --bs=64k --ioengine=psync \
			--fdatasync=1 --size=256m --runtime="$runtime" --time_based \
			--percentile_list=50:99:99.9 --output-format=json)
		fio_lat disk_floor "$o"
	}
	# trace_report: each request's time from submission to completion in the traced run,
	# by kind: the rawio process's io_uring requests (its cache device), and the disk's
	# (block layer; the flushes are paired first in, first out).
	trace_report() {
		printf '   %-22s %8s %8s %8s %8s %8s\n' "traced request" n p50_ms p99_ms p99.9_ms max_ms
		perf script -i "$tmp/perf.data" -F comm,pid,time,event,trace 2>/dev/null | awk '
		function pct(k, q,   n, cmd, a, i) {
			n = cnt[k]; if (!n) return "-"
			cmd = "sort -g > " tmpf; for (i = 1; i <= n; i++) print lat[k, i] | cmd
			close(cmd); i = 0
			while ((getline a < tmpf) > 0) { i++; if (i >= q * n / 100) break }
			close(tmpf); return sprintf("%.2f", a)
		}
		function add(k, ms) { lat[k, ++cnt[k]] = ms; if (ms > mx[k]) mx[k] = ms }
		{ t = $3; sub(":", "", t); t *= 1000 }
		/io_uring_submit_req/ && $2 == pid {
			match($0, /req 0x[0-9a-f]+/); r = substr($0, RSTART + 4, RLENGTH - 4)
			match($0, /opcode [A-Z_]+/); op[r] = substr($0, RSTART + 7, RLENGTH - 7); ts[r] = t
		}
		/io_uring_complete/ {
			match($0, /req 0x[0-9a-f]+/); r = substr($0, RSTART + 4, RLENGTH - 4)
			if (r in ts) { add("cache " op[r], t - ts[r]); delete ts[r] }
		}
		/block_rq_issue/ {
			match($0, /[0-9]+,[0-9]+ [A-Z]+ /); split(substr($0, RSTART, RLENGTH), f, " ")
			d = f[1]; w = f[2]
			if (w ~ /^F/) { fq[d, fh[d]++] = t; next }
			match($0, /\) [0-9]+ \+/); s = substr($0, RSTART + 2, RLENGTH - 4)
			bq[d, s] = t; bw[d, s] = w
		}
		/block_rq_complete/ {
			match($0, /[0-9]+,[0-9]+ [A-Z]+ /); split(substr($0, RSTART, RLENGTH), f, " ")
			d = f[1]; w = f[2]
			if (w ~ /^F/ && ft[d] < fh[d]) { add("disk " d " flush", t - fq[d, ft[d]++]); next }
			match($0, /\) [0-9]+ \+/); s = substr($0, RSTART + 2, RLENGTH - 4)
			if ((d, s) in bq) {
				add("disk " d " " (bw[d, s] ~ /W/ ? "write" : "read"), t - bq[d, s]); delete bq[d, s]
			}
		}
		END {
			for (k in cnt)
				printf "   %-22s %8d %8s %8s %8s %8.1f\n", k, cnt[k], pct(k, 50), pct(k, 99), pct(k, 99.9), mx[k]
		}' tmpf="$tmp/trace.sorted" pid="$(cat "$tmp/traced.pid")" | sort
	}
	if [ -n "$trace" ]; then
		# One more run of the first row under perf, before the rounds and not in them.
		rawio_sync traced "${vargs[0]}" "${vfile[0]}" 1
		printf '   traced run of %s: %.0f pairs/s, p50 / p99 / p99.9 %s/ %s/ %sus; %s\n' "${rows[0]}" \
			"${c_iops[traced]% }" "${c_p50[traced]}" "${c_p99[traced]}" "${c_p999[traced]}" "$(uptime)"
		trace_report
	fi
	for ((r = 1; r <= rounds; r++)); do
		# The rawio rows in reverse order every other round (an A/B with --compare alternates).
		for ((i = 0; i < ${#rows[@]}; i++)); do
			v=$(((r % 2) ? i : ${#rows[@]} - 1 - i))
			rawio_sync "${rows[v]}" "${vargs[v]}" "${vfile[v]}" "" "${vbin[v]}"
		done
		disk_floor
		fio_sync rbd_alone "$conf"
		fio_sync librbd_cache "$tmp/cache.conf"
	done
	printf '%-18s %10s %8s  %s\n' setup iops vs_rbd "p50 / p99 / p99.9 us (every round)"
	base=$(median <<<"${c_iops[rbd_alone]}")
	for s in rbd_alone librbd_cache "${rows[@]}" disk_floor; do
		v=$(median <<<"${c_iops[$s]}")
		printf '%-18s %10.0f %7.2fx  %s / %s / %s\n' "$s" "$v" \
			"$(awk -v a="$v" -v b="$base" 'BEGIN{print a/b}')" "${c_p50[$s]}" "${c_p99[$s]}" \
			"${c_p999[$s]}"
	done
	for ((v = 0; v < ${#rows[@]}; v++)); do
		printf '%-18s %s slots of 128 KiB (%s); args: %s; segments logged/written back, pairs per segment/stalled writers: %s\n' \
			"${rows[v]}" "${c_slots[${rows[v]}]}" "${vfile[v]%/*}" "${vargs[v]}" "${c_log[${rows[v]}]}"
		printf '%-18s binary %s; a flush'"'"'s mean split, lock/queue/commit/wake-up us: %s\n' \
			"${rows[v]}" "${vbin[v]}" "${c_split[${rows[v]}]}"
		[ -z "${c_filled[${rows[v]}]:-}" ] || [ "${rows[v]}" = rawio_full ] ||
			echo "WARNING: ${rows[v]}'s log filled (segments written back: ${c_filled[${rows[v]}]}); its tail is write-back to the image: --cache-size"
	done
	# The goals, on medians. fio times RBD's write and flush apart: its write's p99 is a
	# lower bound of its pair's, so "p99 ratio" is the strict reading of the goal.
	wp() { median <<<"$(tr ' ' '\n' <<<"$1" | sed -n 's|^w:\([0-9]*\)/.*|\1|p')"; }
	fp() { median <<<"$(tr ' ' '\n' <<<"$1" | sed -n 's|^.*/f:\([0-9]*\)$|\1|p')"; }
	rc=$(median <<<"${c_iops[$main]}") lc=$(median <<<"${c_iops[librbd_cache]}")
	r99=$(median <<<"${c_p99[$main]}") r999=$(median <<<"${c_p999[$main]}")
	printf 'goal: rawio cache (%s) >= 10x RBD alone in IOPS: %.2fx\n' "$main" \
		"$(awk -v a="$rc" -v b="$base" 'BEGIN{print a/b}')"
	printf 'goal: rawio p99 <= 0.10 of RBD alone p99 (write only): %s / %s us = %.2f\n' "$r99" \
		"$(wp "${c_p99[rbd_alone]}")" \
		"$(awk -v a="$r99" -v b="$(wp "${c_p99[rbd_alone]}")" 'BEGIN{print a/b}')"
	printf 'floor: the disk alone, 64 KiB write + fdatasync p99: %s + %s us; the goal needs a pair p99 <= %s us\n' \
		"$(wp "${c_p99[disk_floor]}")" "$(fp "${c_p99[disk_floor]}")" \
		"$(awk -v b="$(wp "${c_p99[rbd_alone]}")" 'BEGIN{printf "%.0f", b / 10}')"
	printf 'goal: ahead of librbd cache: IOPS %.2fx; p99.9 rawio pair %s us vs librbd write %s + flush %s us\n' \
		"$(awk -v a="$rc" -v b="$lc" 'BEGIN{print a/b}')" "$r999" \
		"$(wp "${c_p999[librbd_cache]}")" "$(fp "${c_p999[librbd_cache]}")"
	rbd rm --no-progress rbd/cache
fi

if want fs; then
	why=
	[ "$(id -u)" = 0 ] || why="needs root"
	for t in nbdkit nbdfuse losetup mkfs.ext4; do
		command -v $t >/dev/null || why="needs $t"
	done
	[ -w /dev/fuse ] || why="needs /dev/fuse"
	if [ -n "$why" ]; then
		echo "== fs: skipped ($why)"
	else
		rbd create --size 1G --image-feature layering rbd/fs
		img="rbd:rbd/fs:conf=$conf"
		cache_file
		mkdir -p "$mnt"
		echo "== fs: ext4 on rawio export --attach, 8 jobs x (4 KiB random write + fsync), ${runtime}s per run, $rounds rounds; $(uptime)"
		declare -A f_iops f_p50 f_p99 f_p999
		# fs_run SETUP: export, mkfs.ext4, mount, fio, umount, stop the export.
		fs_run() {
			local dev='' o k i
			if [ "$1" = rawio_cache ]; then
				"$rawio" cache format "$tmp/cache.img" "$img" --segment-size 128k --force \
					>/dev/null
				"$rawio" export --attach "$tmp/cache.img" "$img" >"$tmp/export.out" \
					2>"$tmp/export.err" &
			else
				"$rawio" export --attach --engine rbd "$img" >"$tmp/export.out" \
					2>"$tmp/export.err" &
			fi
			xpid=$!
			for ((i = 0; i < 600; i++)); do # up to 60 s: librbd's open, nbdfuse, losetup
				dev=$(sed -n 's/^device: //p' "$tmp/export.out")
				if [ -n "$dev" ] || ! kill -0 "$xpid" 2>/dev/null; then break; fi
				sleep 0.1
			done
			[ -n "$dev" ] || { cat "$tmp/export.err" >&2; return 1; }
			mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 "$dev"
			mount "$dev" "$mnt"
			o=$(fio --name=fs --directory="$mnt" --rw=randwrite --bs=4k --size=16m \
				--numjobs=8 --fsync=1 --ioengine=psync --runtime="$runtime" --time_based \
				--group_reporting --percentile_list=50:99:99.9 --output-format=json)
			umount "$mnt"
			kill -TERM "$xpid"
			wait "$xpid" || true
			xpid=
			f_iops[$1]+="$(jq '.jobs[0].write.iops' <<<"$o") "
			for q in 50 99 99.9; do
				k=$(printf '%.6f' "$q")
				v="w:$(jq ".jobs[0].write.clat_ns.percentile[\"$k\"] / 1000 | floor" <<<"$o")"
				v+="/f:$(jq "(.jobs[0].sync.lat_ns.percentile[\"$k\"] // 0) / 1000 | floor" <<<"$o")"
				case $q in 50) f_p50[$1]+="$v " ;; 99) f_p99[$1]+="$v " ;; *) f_p999[$1]+="$v " ;; esac
			done
		}
		for ((r = 1; r <= rounds; r++)); do
			if ((r % 2)); then fs_run rawio_cache; fs_run rbd_alone; else
				fs_run rbd_alone; fs_run rawio_cache; fi
		done
		printf '%-14s %10s %8s  %s\n' setup iops vs_rbd \
			"write / fsync p50 / p99 / p99.9 us (every round)"
		base=$(median <<<"${f_iops[rbd_alone]}")
		for s in rbd_alone rawio_cache; do
			v=$(median <<<"${f_iops[$s]}")
			printf '%-14s %10.0f %7.2fx  %s / %s / %s\n' "$s" "$v" \
				"$(awk -v a="$v" -v b="$base" 'BEGIN{print a/b}')" "${f_p50[$s]}" \
				"${f_p99[$s]}" "${f_p999[$s]}"
		done
		rbd rm --no-progress rbd/fs
	fi
fi

if want pwl; then
	rbd create --size 256M --image-feature layering,exclusive-lock rbd/pwl
	mkdir -p "$tmp/pwl"
	{
		cat "$conf"
		echo "rbd_plugins = pwl_cache"
		echo "rbd_persistent_cache_mode = ssd"
		echo "rbd_persistent_cache_path = $tmp/pwl"
		echo "rbd_persistent_cache_size = 1G"
	} >"$tmp/pwl.conf"
	echo "== pwl: librbd's persistent write-log cache (ssd mode); $(uptime)"
	if CEPH_CONF=$tmp/pwl.conf fio --name=p --ioengine=rbd --pool=rbd --rbdname=pwl \
		--clientname=admin --rw=randwrite --bs=4k --iodepth=8 --size=64M --runtime=2 \
		--time_based --output-format=json >"$tmp/pwl.json" 2>"$tmp/pwl.err"; then
		echo "fio ran: $(jq '.jobs[0].write.iops' "$tmp/pwl.json") IOPS; cache files: $(ls "$tmp/pwl" | wc -l)"
	else
		echo "fio failed: $(grep -v '^$' "$tmp/pwl.err" | tail -n 3 | tr '\n' ' ')"
	fi
	grep -h "pwl\|plugin" "$cluster"/client.admin.log 2>/dev/null | tail -n 3 || true
	rbd rm --no-progress rbd/pwl || true
fi

if want recovery; then
	entries=32768
	rbd create --size 160M --image-feature layering rbd/rec
	target="rbd:rbd/rec:conf=$conf"
	echo "== recovery: $entries entries of 4 KiB slots on $target; $(uptime)"
	"$rawio" store format "$target" --slot-size 4k --slots "$entries" --force >/dev/null
	"$rawio" store fill "$target" --count "$entries" --fill-threads 8 --json >/dev/null
	declare -A rec
	for ((r = 1; r <= rounds; r++)); do
		for qd in 1 128; do
			out=$("$rawio" store recover "$target" --qd "$qd" --read-only --json)
			n=$(jq .entries <<<"$out")
			[ "$n" = "$entries" ] || { echo "ceph.sh: qd $qd recovered $n of $entries" >&2; exit 1; }
			rec[$qd]+="$(jq .seconds <<<"$out") "
		done
	done
	one=$(median <<<"${rec[1]}") bat=$(median <<<"${rec[128]}")
	printf 'one at a time (qd 1): %.2f s   batched (qd 128): %.2f s   %.1fx\n' "$one" "$bat" \
		"$(awk -v a="$one" -v b="$bat" 'BEGIN{print a/b}')"
	rbd rm --no-progress rbd/rec
fi
