#!/usr/bin/env bash
# rawio bench --json: one object with the documented fields (docs/bench.md), numbers that
# add up; the text form too.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

j=$("$RAWIO" bench --engine mem --file mem:16M --rw randrw --rwmixread 60 --qd 8 --jobs 2 \
	--runtime 300ms --ramp 50ms --json --no-progress)
echo "$j" | head -5
for k in engine engine_desc path rw rwmixread bs qd jobs size offset runtime_ns ramp_ns \
	elapsed_ns submit_batch complete_min complete_max ios bytes iops mbps lat_ns slat_ns \
	clat_ns read write cpu_ns_per_io cpu syscalls ios_per_syscall filled seed; do
	jq -e "has(\"$k\")" <<<"$j" >/dev/null || fail "JSON has no $k"
done
echo "ok: top-level keys"
for l in lat_ns slat_ns clat_ns read.lat_ns write.clat_ns; do
	for k in count min mean stdev p50 p90 p99 p999 p9999 max; do
		jq -e ".$l | has(\"$k\")" <<<"$j" >/dev/null || fail "JSON has no $l.$k"
	done
done
echo "ok: latency keys"
jcheck "$j" '.engine == "mem" and .rw == "randrw" and .rwmixread == 60' "engine, pattern, mix"
jcheck "$j" '.bs == 4096 and .qd == 8 and .jobs == 2 and .size == 16777216' "shape"
jcheck "$j" '.elapsed_ns == 300000000 and .runtime_ns == 300000000 and .ramp_ns == 50000000' \
	"window"
# No floor on the count: a sanitizer build on a loaded machine may complete few I/Os in 300 ms.
jcheck "$j" '.ios > 0 and .ios == .read.ios + .write.ios' "ios add up"
jcheck "$j" '.bytes == .ios * 4096' "bytes"
jcheck "$j" '(.iops - .ios / 0.3 | fabs) < 1 and (.mbps - .bytes / 0.3 / 1e6 | fabs) < 0.01' \
	"iops and mbps from the window"
jcheck "$j" '.lat_ns.count == .ios and .lat_ns.min <= .lat_ns.p50 and
	.lat_ns.p50 <= .lat_ns.p90 and .lat_ns.p90 <= .lat_ns.p99 and .lat_ns.p99 <= .lat_ns.p999 and
	.lat_ns.p999 <= .lat_ns.p9999 and .lat_ns.p9999 <= .lat_ns.max' "percentiles in order"
jcheck "$j" '.cpu_ns_per_io > 0 and .cpu.user_ns + .cpu.sys_ns > 0' "CPU measured"
jcheck "$j" '.ios_per_syscall == null and .syscalls.submit == 0' "mem makes no system call"

# The null mode and the defaults.
j=$("$RAWIO" bench --engine mem --null --size 4M --runtime 100ms --json --no-progress --ramp 0)
jcheck "$j" '.engine_desc | test("null=yes")' "null mode"
jcheck "$j" '.rw == "randread" and .qd == 32 and .submit_batch == 1 and .complete_min == 4 and
	.complete_max == 32' "defaults"
jcheck "$j" '.engine_desc | test("wait=") | not' "blocking waits by default"
j=$("$RAWIO" bench --engine mem --size 4M --runtime 100ms --json --no-progress --ramp 0 \
	--wait hybrid --poll p10:80:1ms)
jcheck "$j" '.engine_desc | test("wait=hybrid")' "--wait hybrid reaches the engine"
jcheck "$j" '.ios > 0' "and I/O completes under it"

# A one-pass run: exactly size/bs I/Os.
j=$("$RAWIO" bench --engine mem --size 4M --bs 64k --rw write --runtime 0 --json --no-progress)
jcheck "$j" '.ios == 64 and .write.ios == 64 and .read.ios == 0 and .ramp_ns == 0' "one pass"

# The read share of randrw, on a count that does not depend on speed: one pass of 4096 I/Os.
j=$("$RAWIO" bench --engine mem --file mem:16M --rw randrw --rwmixread 60 --runtime 0 --json \
	--no-progress)
jcheck "$j" '.ios == 4096 and .read.ios + .write.ios == 4096' "one randrw pass"
jcheck "$j" '.read.ios > 0.5 * .ios and .read.ios < 0.7 * .ios' "60% reads"

# Text form.
status 0 "$RAWIO" bench --engine mem --size 4M --runtime 100ms --ramp 0 --no-progress
says "^rawio bench: randread bs=4096 qd=32 jobs=1 on mem:4194304"
says "read: IOPS=.*, BW=[0-9.]+ MB/s \([0-9.]+ [KMGT]?i?B/s\)"
says "lat \(ns\): min=[0-9]+ mean="
says "p50=[0-9]+ p90=[0-9]+ p99=[0-9]+ p99.9=[0-9]+ p99.99=[0-9]+"
says "ns of CPU per I/O"
echo "PASS"
