#!/usr/bin/env bash
# Write-back cache benchmarks (seed 002's numbers, on this machine).
#
#   bench/cache.sh [--quick] [--json] [--runs N] [--dir DIR] [--no-files]
#                  [--only absorb|drain|fsync] [--absorb SIZE]
#   bench/cache.sh --goal [--runs N] [--absorb SIZE]     (issue 14's absorb goal)
#
# Two setups:
#   emulated  cache = RAM behind the throttle engine's "ssd" model (500 MiB/s),
#             backing = RAM behind its "hdd" model (4 ms full-stroke seek,
#             about 430 random 4 KiB writes/s); docs/engines.md has the model
#   files     cache and backing are files under DIR (default var/bench) on
#             this machine's disk
# Measurements:
#   absorb  4 KiB random writes from 32 threads (QD 32) through the cache, timed
#           until durable on the cache device, against 75% of the cache
#           device's sequential write bandwidth / 4 KiB (the ceiling: the
#           segments this absorb logs, written as the flush worker writes them,
#           one per I/O from huge-page buffers, the cache's engine, at its depth
#           and at depth 1, the best, then one fdatasync; timed, right before
#           the absorb) and 20x the backing device's random 4 KiB write IOPS
#           (measured the same run, before the ceiling)
#   drain   256 MiB of distinct random dirty blocks written back at
#           nr_batched_migration 1, 4, 32, 128
#   fsync   4 KiB write + flush from 1 and 8 writers, group commit (deadline
#           3000 us) against one segment per flush (deadline 0)
# Every configuration runs RUNS times (default 3), alternated within each
# round; the tables show medians. --quick: 1 run, 64 MiB absorbed, 32 MiB
# drained, 1 s per fsync run. --json: one line per measurement (the medians),
# each with "name" and its figures. --only: that measurement alone. --absorb SIZE:
# absorb SIZE (e.g. 2g: long enough to profile) instead of 256m (64m with --quick); the
# cache file is made large enough to hold it without write-back (at least 1 GiB).
# --goal: absorb alone, RUNS (default 5) pairs of ceiling + absorb per setup, alternated
# over the setups, plus a third setup "shm" (cache and backing files in /dev/shm, direct
# I/O: a ceiling of memory bandwidth, so its ratio is the cache's CPU cost); prints each
# pair's ratio (absorb data bytes/s over the ceiling's bytes/s, measured back to back in
# one process on the same bytes of the same file) and the median and spread over pairs.
set -euo pipefail

runs=3
quick=0
json=0
files=1
dir=var/bench
only=""
absorb_arg=""
goal=0
runs_arg=""
rawio=${RAWIO:-$(dirname "$0")/../build/release/tools/rawio}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--json) json=1 ;;
	--runs) runs_arg=$2; shift ;;
	--goal) goal=1 ;;
	--dir) dir=$2; shift ;;
	--no-files) files=0 ;;
	--only) only=$2; shift ;;
	--absorb) absorb_arg=$2; shift ;;
	-h | --help) sed -n '2,37p' "$0"; exit 0 ;;
	*) echo "cache.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$rawio" ] || { echo "cache.sh: $rawio not built (make build PRESET=release)" >&2; exit 1; }
command -v jq >/dev/null || { echo "cache.sh: needs jq" >&2; exit 1; }

absorb_bytes=256m
drain_bytes=256m
fsync_secs=3
if [ $quick = 1 ]; then
	runs=1
	absorb_bytes=64m
	drain_bytes=32m
	fsync_secs=1
fi
if [ $goal = 1 ]; then
	runs=5
	only=absorb
fi
[ -z "$runs_arg" ] || runs=$runs_arg
[ -z "$absorb_arg" ] || absorb_bytes=$absorb_arg
case $only in
"" | absorb | drain | fsync) ;;
*) echo "cache.sh: --only takes absorb, drain or fsync" >&2; exit 2 ;;
esac
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }
# The cache file holds the whole absorb with room to spare: no write-back while it runs.
cache_mib=$(($(numfmt --from=iec "${absorb_bytes^^}") / 1048576 * 5 / 4 + 64))
[ "$cache_mib" -ge 1024 ] || cache_mib=1024
log() { [ $json = 1 ] || echo "$@"; }

tmp=$(mktemp -d)
made=""
cleanup() {
	rm -rf "$tmp"
	if [ -n "$made" ]; then rm -f "$dir/cache.img" "$dir/backing.img"; fi
	if [ -n "$shm" ]; then rm -rf "$shm"; fi
}
trap cleanup EXIT
results=$tmp/results.jsonl
shm=""
: >"$results"

# Setups: name, cache, backing, extra options.
setups=(emulated)
declare -A cdev bdev extra
cdev[emulated]=mem:1g
bdev[emulated]=mem:4g
extra[emulated]="--cache-throttle ssd --backing-throttle hdd"
# A setup of two files in DIR: a cache file sized for the absorb, a 4 GiB backing file.
file_setup() {
	local name=$1 d=$2
	# format refuses a file larger than --size: a longer --absorb earlier grew it
	if [ -e "$d/cache.img" ]; then truncate -s "${cache_mib}M" "$d/cache.img"; fi
	"$rawio" cache format "$d/cache.img" "$d/backing.img" --size "${cache_mib}m" --backing-size 4g \
		--force >/dev/null
	setups+=("$name")
	cdev[$name]=$d/cache.img
	bdev[$name]=$d/backing.img
	extra[$name]=""
}
if [ $files = 1 ]; then
	mkdir -p "$dir"
	[ -e "$dir/cache.img" ] || made=1
	file_setup files "$dir"
fi
if [ $goal = 1 ]; then
	shm=$(mktemp -d /dev/shm/rawio-cache-bench.XXXXXX)
	file_setup shm "$shm"
fi

# One measurement: bench MODE on SETUP with ARGS; its JSON lines, tagged, into results.
bench() {
	local setup=$1 mode=$2
	shift 2
	# shellcheck disable=SC2086
	"$rawio" cache bench "$mode" "${cdev[$setup]}" "${bdev[$setup]}" ${extra[$setup]} --force --json "$@" |
		jq -c --arg s "$setup" '. + {setup: $s}' >>"$results"
}

log "== rawio cache benchmarks ($(uname -r), $(nproc) cores, $(date -u +%F)); $runs run(s) each, medians"
log "$(uptime)"
# --goal: a round 0 not counted (the files' first writes allocate blocks, tmpfs pages).
first=1
[ $goal = 0 ] || first=0
for ((r = first; r <= runs; r++)); do
	log "-- round $r of $runs"
	for s in "${setups[@]}"; do
		if want absorb; then bench "$s" absorb --bytes "$absorb_bytes" --threads 32; fi
		if ((r == 0)); then sed -i '$d' "$results"; fi
		for w in 1 8; do
			for d in 0 3000; do
				if want fsync; then
					bench "$s" fsync --writers "$w" --deadline-us "$d" --seconds "$fsync_secs"
				fi
			done
		done
		# Alternate the order of the batch sizes from round to round.
		if ((r % 2)); then batches=1,4,32,128; else batches=128,32,4,1; fi
		if want drain; then bench "$s" drain --bytes "$drain_bytes" --batch "$batches"; fi
	done
done

# Medians per configuration.
jq -s -c '
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	group_by([.setup, .name, .writers, .deadline_us, .nr_batched_migration])[]
	| . as $g
	| ($g[0] | to_entries | map(select(.value | type == "number") | .key)) as $k
	| reduce $k[] as $f ($g[0]; .[$f] = ([$g[][$f]] | median)) | . + {runs: ($g | length)}
' "$results" >"$tmp/medians.jsonl"

if [ $goal = 1 ]; then
	if [ $json = 1 ]; then
		jq -c 'select(.name == "absorb") | . + {ratio: (.iops * 4096 / (.cache_seq_mb_s * 1e6))}' \
			"$results"
		exit 0
	fi
	echo
	echo "absorb goal: 4 KiB random writes, 32 threads, $absorb_bytes, timed until durable, against"
	echo "75% of the ceiling: the same run's segment writes of the same bytes to the same file"
	echo "at the flush worker's depth and at depth 1 (the best), with its final fdatasync"
	printf "%-9s %6s %11s %11s %10s %11s %11s %8s %9s %9s\n" setup pairs "IOPS med" "ceil MB/s" \
		"ceil max/min" "ratio med" "ratio min" "max" "flush ms" "sync ms"
	jq -r -s 'def median: sort | if length % 2 == 1 then .[length / 2 | floor]
			else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		[.[] | select(.name == "absorb")] | group_by(.setup)[] |
		map(. + {ratio: (.iops * 4096 / (.cache_seq_mb_s * 1e6))}) |
		[.[0].setup, length, ([.[].iops] | median | round),
		 ([.[].cache_seq_mb_s] | median | round),
		 (([.[].cache_seq_mb_s] | max) / ([.[].cache_seq_mb_s] | min) * 100 | round / 100),
		 ([.[].ratio] | median * 1000 | round / 1000), ([.[].ratio] | min * 1000 | round / 1000),
		 ([.[].ratio] | max * 1000 | round / 1000),
		 ([.[].flush_seconds] | median * 1000 | round),
		 ([.[].ceiling_sync_seconds // 0] | median * 1000 | round)] | @tsv' "$results" |
		while IFS=$'\t' read -r a b c d e f g h i j; do
			printf "%-9s %6s %11s %11s %10s %11s %11s %8s %9s %9s\n" "$a" "$b" "$c" "$d" "$e" "$f" \
				"$g" "$h" "$i" "$j"
		done
	echo "ratio: absorb data bytes/s over the ceiling's bytes/s, per pair (ceiling then absorb,"
	echo "back to back); goal: ratio >= 0.75 on files. flush ms: the absorb's final flush (medians),"
	echo "sync ms: the ceiling's final fdatasync; both in the timed figures. Pairs per setup (ratio, IOPS, ceiling MB/s):"
	jq -r -s '[.[] | select(.name == "absorb")] | group_by(.setup)[] |
		"  \(.[0].setup): " + (map("\(.iops * 4096 / (.cache_seq_mb_s * 1e6) * 1000 | round / 1000)" +
		" (\(.iops | round), \(.cache_seq_mb_s | round))") | join(" "))' "$results"
	exit 0
fi
if [ $json = 1 ]; then
	cat "$tmp/medians.jsonl"
	exit 0
fi

echo
echo "absorb: 4 KiB random writes, 32 threads (QD 32), $absorb_bytes, timed until durable"
printf "%-9s %10s %12s %10s %9s %12s %9s %12s %10s %10s %9s\n" setup IOPS "seq MB/s" "goal IOPS" \
	"of goal" "backing IOPS" "x backing" "CPU us/write" "csw/write" "stalls/seg" "flush ms"
jq -r 'select(.name == "absorb") | [.setup, (.iops | round), (.cache_seq_mb_s | round),
	(.goal_iops | round), ((.pct_of_goal | round | tostring) + "%"), (.backing_rand_iops | round),
	((.x_backing * 10 | round / 10 | tostring) + "x"), (.cpu_us_per_write * 100 | round / 100),
	(.csw_per_write * 1000 | round / 1000), (.write_stalls / .segments * 100 | round / 100),
	(.flush_seconds * 10000 | round / 10)] | @tsv' "$tmp/medians.jsonl" |
	while IFS=$'\t' read -r a b c d e f g h i k l; do
		printf "%-9s %10s %12s %10s %9s %12s %9s %12s %10s %10s %9s\n" "$a" "$b" "$c" "$d" "$e" \
			"$f" "$g" "$h" "$i" "$k" "$l"
	done
echo "CPU us/write, csw/write: the process's CPU time and context switches while absorbing, per"
echo "write (every thread); on a shared machine the IOPS follow the CPU share, these do not;"
echo "stalls/seg: writers that waited for a free RAM segment, per segment; flush ms: the final"
echo "flush (last segment written and made durable), part of the timed run"


echo
echo "drain: $drain_bytes of distinct random 4 KiB dirty blocks"
printf "%-9s %6s %9s %8s %9s %10s %12s\n" setup batch seconds "MB/s" batches "bk writes" \
	"vs batch 1"
jq -r -s '[.[] | select(.name == "drain")] | group_by(.setup)[] |
	(map(select(.nr_batched_migration == 1)) | .[0].seconds // null) as $one |
	sort_by(.nr_batched_migration)[] |
	[.setup, .nr_batched_migration, (.seconds * 100 | round / 100),
	 (.blocks * 4096 / .seconds / 1e6 * 10 | round / 10), .batches, .backing_writes,
	 (if $one then (($one / .seconds * 100 | round / 100 | tostring) + "x") else "-" end)] |
	@tsv' "$tmp/medians.jsonl" |
	while IFS=$'\t' read -r a b c d e f g; do
		printf "%-9s %6s %9s %8s %9s %10s %12s\n" "$a" "$b" "$c" "$d" "$e" "$f" "$g"
	done
jq -r -s '(map(select(.name == "absorb" and .setup == "emulated")) | .[0].backing_rand_iops) as $b |
	(map(select(.name == "drain" and .setup == "emulated")) | .[0].blocks) as $n |
	if $b and $n then "emulated backing alone (the same blocks at its random-write IOPS): \($n / $b | round) s" else empty end' \
	"$tmp/medians.jsonl"

echo
echo "fsync: 4 KiB write + flush per op; deadline 0 = one segment per flush"
printf "%-9s %8s %9s %12s %14s %12s %14s\n" setup writers deadline "ops/s" "segments/op" \
	"KiB/op" "dev flush/op"
jq -r 'select(.name == "fsync") | [.setup, .writers, .deadline_us, (.iops | round),
	(.segments_per_flush * 1000 | round / 1000), (.kib_per_flush * 10 | round / 10),
	(.cache_flushes_per_flush * 100 | round / 100)] | @tsv' "$tmp/medians.jsonl" |
	while IFS=$'\t' read -r a b c d e f g; do
		printf "%-9s %8s %9s %12s %14s %12s %14s\n" "$a" "$b" "$c" "$d" "$e" "$f" "$g"
	done
