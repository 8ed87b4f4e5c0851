#!/usr/bin/env bash
# rawio cache bench drain --readers: with --io-properties the JSON has the cache device's
# read and migrate classes' queue and disk p99 during the drain and the scheduler's waits
# (their latency statistics started afresh for the drain: the readers' idle phase is not in
# them); without, those keys are absent (no scheduler).
set -euo pipefail
. "$RAWIO_TESTS/lib.sh"
need_tool jq
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

io_props "$tmp/p.yaml" test 200000 4G 200000 4G
run() { "$RAWIO" cache bench drain "$tmp/c.img" "$tmp/b.img" --size 64m --backing-size 128m \
	--bytes 4m --batch 128 --readers 2 --force --json "$@"; }

j=$(run --io-properties "$tmp/p.yaml")
jcheck "$j" '.sched == true' "scheduled"
for k in read_queue_p99_ns read_disk_p99_ns migrate_queue_p99_ns migrate_disk_p99_ns \
	bound_waits token_waits grant_waits; do
	jcheck "$j" "has(\"$k\") and .$k >= 0" "has $k"
done
jcheck "$j" '.read_disk_p99_ns > 0 and .migrate_disk_p99_ns > 0' "reads and migration reached the disk"
jcheck "$j" '.read_iops > 0' "readers read during the drain"
j=$(run)
jcheck "$j" '.sched == false and (has("read_queue_p99_ns") | not)' "no scheduler: no class columns"
echo ok
