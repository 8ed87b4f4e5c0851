#!/usr/bin/env bash
# rawio on a Ceph RBD image, on a throwaway single-node cluster of its own
# (scripts/ceph-cluster.sh; stopped on every exit path).
#
#   bench/ceph.sh [--runtime SECONDS] [--rounds N] [--only engine,jobs,cache,pwl,recovery]
#                 [--compare RAWIO_B]
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
#           reports the write's and the flush's apart (columns w: and f:).
# pwl       does this librbd load the persistent write-log cache (pwl_cache plugin,
#           rbd_persistent_cache_mode = ssd)? One fio run says.
# recovery  a store of 4 KiB slots on an image, filled, recovered with the rbd
#           engine one header at a time (--qd 1) and batched (--qd 128).
# Prints `uptime` before each part: the machine is shared. The defaults print every goal
# table of issue 20 in one run (engine, cache with the goal lines, pwl, recovery).
set -euo pipefail

runtime=5
rounds=2
only=engine,jobs,cache,pwl,recovery
rawio_b=
rawio=${RAWIO:-$(dirname "$0")/../build/release/tools/rawio}
root=$(cd "$(dirname "$0")/.." && pwd)

while [ $# -gt 0 ]; do
	case $1 in
	--runtime) runtime=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--only) only=$2; shift ;;
	--compare) rawio_b=$2; shift ;;
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
cleanup() {
	"$root/scripts/ceph-cluster.sh" stop "$cluster" || true
	rm -rf "$tmp"
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
	declare -A r_iops r_cpu f_iops f_cpu
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
	for ((r = 1; r <= rounds; r++)); do
		for row in "${rows[@]}"; do
			read -r rw bs qd <<<"$row"
			if ((r % 2)); then run_rawio; run_fio; else run_fio; run_rawio; fi
		done
		echo "   round $r done; $(uptime)"
	done
	printf '%-16s %10s %10s %7s %12s %12s %7s\n' row rawio_iops fio_iops ratio \
		rawio_us/io fio_us/io ratio
	for row in "${rows[@]}"; do
		ri=$(median <<<"${r_iops[$row]}") fi=$(median <<<"${f_iops[$row]}")
		rc=$(median <<<"${r_cpu[$row]}") fc=$(median <<<"${f_cpu[$row]}")
		printf '%-16s %10.0f %10.0f %6.2fx %12s %12s %6.2fx\n' "${row// /_}" "$ri" "$fi" \
			"$(awk -v a="$ri" -v b="$fi" 'BEGIN{print a/b}')" "$rc" "$fc" \
			"$(awk -v a="$rc" -v b="$fc" 'BEGIN{print a/b}')"
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

if want cache; then
	rbd create --size 1G --image-feature layering rbd/cache
	sed 's/^rbd cache = false$/rbd cache = true/' "$conf" >"$tmp/cache.conf"
	echo "rbd cache writethrough until flush = false" >>"$tmp/cache.conf"
	# Written in full first, as a partition or a preallocated file would be: in a sparse file
	# every segment write allocates blocks, so every cache flush (fdatasync) also commits the
	# filesystem's journal, and on a disk shared with other writers that commit waits behind
	# theirs (measured: 1.13x the flushes per second; docs/perf.md).
	dd if=/dev/zero of="$tmp/cache.img" bs=4M count=256 oflag=direct status=none
	echo "== cache: 32 writers x (4 KiB random write + flush), ${runtime}s per run, $rounds rounds; $(uptime)"
	declare -A c_iops c_p50 c_p99 c_p999
	# fio_sync SETUP CONF: one fio run; IOPS and the write's and flush's percentiles (us).
	fio_sync() {
		local o
		o=$(CEPH_CONF=$2 fio --name=s --ioengine=rbd --pool=rbd --rbdname=cache \
			--clientname=admin --rw=randwrite --bs=4k --iodepth=1 --numjobs=32 --thread \
			--fsync=1 --size=1G --runtime="$runtime" --time_based --group_reporting \
			--percentile_list=50:99:99.9 --output-format=json)
		c_iops[$1]+="$(jq '.jobs[0].write.iops' <<<"$o") "
		for q in 50 99 99.9; do
			local k
			k=$(printf '%.6f' "$q")
			v="w:$(jq ".jobs[0].write.clat_ns.percentile[\"$k\"] / 1000 | floor" <<<"$o")"
			v+="/f:$(jq "(.jobs[0].sync.lat_ns.percentile[\"$k\"] // 0) / 1000 | floor" <<<"$o")"
			case $q in 50) c_p50[$1]+="$v " ;; 99) c_p99[$1]+="$v " ;; *) c_p999[$1]+="$v " ;; esac
		done
	}
	for ((r = 1; r <= rounds; r++)); do
		o=$("$rawio" cache bench fsync "$tmp/cache.img" "rbd:rbd/cache:conf=$conf" --force \
			--writers 32 --seconds "$runtime" --json | jq -c 'select(.name == "fsync")')
		c_iops[rawio_cache]+="$(jq .iops <<<"$o") "
		c_p50[rawio_cache]+="$(jq '.p50_us | floor' <<<"$o") "
		c_p99[rawio_cache]+="$(jq '.p99_us | floor' <<<"$o") "
		c_p999[rawio_cache]+="$(jq '.p999_us | floor' <<<"$o") "
		fio_sync rbd_alone "$conf"
		fio_sync librbd_cache "$tmp/cache.conf"
	done
	printf '%-14s %10s %8s  %s\n' setup iops vs_rbd "p50 / p99 / p99.9 us (every round)"
	base=$(median <<<"${c_iops[rbd_alone]}")
	for s in rbd_alone librbd_cache rawio_cache; do
		v=$(median <<<"${c_iops[$s]}")
		printf '%-14s %10.0f %7.2fx  %s / %s / %s\n' "$s" "$v" \
			"$(awk -v a="$v" -v b="$base" 'BEGIN{print a/b}')" "${c_p50[$s]}" "${c_p99[$s]}" \
			"${c_p999[$s]}"
	done
	# The goals, on medians. fio times RBD's write and flush apart: its write's p99 is a
	# lower bound of its pair's, so "p99 ratio" is the strict reading of the goal.
	wp() { median <<<"$(tr ' ' '\n' <<<"$1" | sed -n 's|^w:\([0-9]*\)/.*|\1|p')"; }
	fp() { median <<<"$(tr ' ' '\n' <<<"$1" | sed -n 's|^.*/f:\([0-9]*\)$|\1|p')"; }
	rc=$(median <<<"${c_iops[rawio_cache]}") lc=$(median <<<"${c_iops[librbd_cache]}")
	r99=$(median <<<"${c_p99[rawio_cache]}") r999=$(median <<<"${c_p999[rawio_cache]}")
	printf 'goal: rawio cache >= 10x RBD alone in IOPS: %.2fx\n' \
		"$(awk -v a="$rc" -v b="$base" 'BEGIN{print a/b}')"
	printf 'goal: rawio p99 <= 0.10 of RBD alone p99 (write only): %s / %s us = %.2f\n' "$r99" \
		"$(wp "${c_p99[rbd_alone]}")" \
		"$(awk -v a="$r99" -v b="$(wp "${c_p99[rbd_alone]}")" 'BEGIN{print a/b}')"
	printf 'goal: ahead of librbd cache: IOPS %.2fx; p99.9 rawio pair %s us vs librbd write %s + flush %s us\n' \
		"$(awk -v a="$rc" -v b="$lc" 'BEGIN{print a/b}')" "$r999" \
		"$(wp "${c_p999[librbd_cache]}")" "$(fp "${c_p999[librbd_cache]}")"
	rbd rm --no-progress rbd/cache
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
