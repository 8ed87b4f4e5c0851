#!/usr/bin/env bash
# The cache's commit path: 4 KiB write + flush per op (rawio cache bench fsync)
# on a cache file, at 1 and 32 writers, for each commit mode, rounds alternated:
#
#   bench/cache-commit.sh [--rounds N] [--seconds S] [--dir DIR] [--compare OLD_RAWIO]
#                         [--modes "fua flush auto"] [--writers "1 32"] [--jsonl FILE]
#
#   fua    commit_fua=1: a segment a barrier waits for is written with FUA
#   flush  commit_fua=0: written, then a cache-device flush (fdatasync)
#   auto   the default (commit_fua=2: what the device is judged to want)
#   old    OLD_RAWIO (a build before commit_qd/commit_fua), with --compare
#   fua4, flush4, auto4: the same with commit_qd=4 (else its default, 1)
#   overlap  commit_overlap=1: a barrier's segment is written during the running
#            cache flush, its own flush issued when that one completes
# --jsonl keeps every run. The cache file (1 GiB, DIR/commit-cache.img, default
# var/bench) is written in full first: writes into holes allocate, and
# every flush then commits the filesystem's journal. Prints ops/s and p50/p99/p99.9
# latency of a write + flush pair (medians of the rounds) and `uptime`.
# The last column: a flush's time split (rawio_cache_stat.barrier_*_ns), means per
# flush: taking the cache's lock, until its segment was sealed, the commit (segment
# write + cache flush), the wake-up after it; "-" for a binary without it.
# Default 3 rounds of 3 s, 3 modes: about 1.5 minutes on a quiet machine.
set -euo pipefail

rounds=3
secs=3
dir=var/bench
old=""
modes="fua flush auto"
writers="1 32"
jsonl=""
rawio=${RAWIO:-$(dirname "$0")/../build/release/tools/rawio}

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--seconds) secs=$2; shift ;;
	--dir) dir=$2; shift ;;
	--compare) old=$2; shift ;;
	--modes) modes=$2; shift ;;
	--writers) writers=$2; shift ;;
	--jsonl) jsonl=$2; shift ;;
	-h | --help) sed -n '2,22p' "$0"; exit 0 ;;
	*) echo "cache-commit.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$rawio" ] || { echo "cache-commit.sh: $rawio not built (make build PRESET=release)" >&2; exit 1; }
command -v jq >/dev/null || { echo "cache-commit.sh: needs jq" >&2; exit 1; }

mkdir -p "$dir"
cache=$dir/commit-cache.img
backing=$dir/commit-backing.img
tmp=$(mktemp -d)
cleanup() {
	if [ -n "$jsonl" ] && [ -e "$tmp/results.jsonl" ]; then cp "$tmp/results.jsonl" "$jsonl"; fi
	rm -rf "$tmp" "$cache" "$backing"
}
trap cleanup EXIT
dd if=/dev/zero of="$cache" bs=1M count=1024 oflag=direct status=none
truncate -s 4G "$backing"
"$rawio" cache format "$cache" "$backing" --force >/dev/null

read -ra modes <<<"$modes"
[ -n "$old" ] && modes+=(old)
echo "== cache commit: 4 KiB write + flush, $rounds round(s) of ${secs} s, $(uname -r), $(nproc) cores"
uptime
for ((r = 1; r <= rounds; r++)); do
	for w in $writers; do
		# Alternate the order of the modes from round to round.
		if ((r % 2)); then order=("${modes[@]}"); else order=($(printf '%s\n' "${modes[@]}" | tac)); fi
		for m in "${order[@]}"; do
			bin=$rawio
			args=()
			case $m in
			fua) args=(--tunable commit_fua=1) ;;
			flush) args=(--tunable commit_fua=0) ;;
			fua1) args=(--tunable commit_fua=1 --tunable commit_qd=1) ;;
			flush1) args=(--tunable commit_fua=0 --tunable commit_qd=1) ;;
			fua4) args=(--tunable commit_fua=1 --tunable commit_qd=4) ;;
			flush4) args=(--tunable commit_fua=0 --tunable commit_qd=4) ;;
			auto4) args=(--tunable commit_qd=4) ;;
			overlap) args=(--tunable commit_overlap=1) ;;
			old) bin=$old ;;
			esac
			"$bin" cache bench fsync "$cache" "$backing" --writers "$w" --seconds "$secs" \
				--force --json "${args[@]}" |
				jq -c --arg m "$m" '. + {mode: $m}' >>"$tmp/results.jsonl"
		done
	done
done
uptime
echo
echo "| mode | writers | write+flush/s | p50 us | p99 us | p99.9 us | cache flushes per op | flush split: lock / queue / commit / wake-up, mean us |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
jq -rs 'def med: sort | .[length / 2 | floor];
	def us(f): map(f // empty) | if length == 0 then "-" else (med * 10 | round / 10 | tostring) end;
	group_by([.writers, .mode]) | .[] |
	"| \(.[0].mode) | \(.[0].writers) | \(map(.iops) | med | round) | \(map(.p50_us) | med | round) | \(map(.p99_us) | med | round) | \(map(.p999_us) | med | round) | \(map(.cache_flushes_per_flush) | med * 100 | round / 100) | \(us(.flush_lock_us)) / \(us(.flush_queue_us)) / \(us(.flush_commit_us)) / \(us(.flush_wake_us)) |"' \
	"$tmp/results.jsonl"
