#!/usr/bin/env bash
# rawio bench on a multi-queue RAM device: a queues array (one entry per hardware
# queue) and the imbalance in JSON; phases with --phases; the balance table and the
# phases table in text; --phases refused through a stacked engine.
set -euo pipefail
. "$RAWIO_TESTS/lib.sh"
need_tool jq

j=$("$RAWIO" bench --engine mem --file "mem:16M,queues=3,depth=4,complete=timer,lat=5us" \
	--qd 16 --jobs 3 --queue-per-job --runtime 300ms --ramp 50ms --phases --json --no-progress)
jcheck "$j" '.queues | length == 3' "three queues"
jcheck "$j" '[.queues[] | .completed > 0 and .max_inflight <= 4 and .max_inflight >= 1] | all' \
	"every queue used, never above depth"
jcheck "$j" '[.queues[] | .tag_waits] | add > 0' "qd 16 on 4 tags waits"
jcheck "$j" '.queue_imbalance >= 1' "imbalance is max/mean"
# The queues' window holds every job's (a request done by the device just before it opened
# but reaped inside is the only slack).
jcheck "$j" '([.queues[] | .completed] | add) >= .ios * 0.95' "the queues saw the counted I/Os"
for p in Q2G G2D D2C C2R Q2R; do
	jcheck "$j" ".phases_ns.$p.count > 0" "phase $p"
done
jcheck "$j" '.phases_ns.D2C.p50 >= 5000' "D2C holds the timer's 5 us"
jcheck "$j" '.phases_ns.Q2R.count * 9 > .ios' "one in eight sampled"

out=$("$RAWIO" bench --engine mem --file "mem:16M,queues=2,depth=2,complete=thread" --qd 8 \
	--jobs 2 --runtime 200ms --ramp 0 --phases --no-progress)
grep -q "imbalance max/mean" <<<"$out" || fail "no balance table: $out"
grep -q "Q2G" <<<"$out" || fail "no phases table: $out"

j=$("$RAWIO" bench --engine mem --file mem:16M --qd 8 --runtime 100ms --ramp 0 --json --no-progress)
jcheck "$j" '.queues | length == 1' "one queue by default"
jcheck "$j" 'has("phases_ns") | not' "no phases unasked"

err=$("$RAWIO" bench --engine fault --file mem:16M --runtime 100ms --phases 2>&1) &&
	fail "--phases accepted through the stacked fault engine"
grep -q "stacked engine fault" <<<"$err" || fail "fault + --phases not refused by name: $err"
err=$("$RAWIO" bench --engine mem --file "mem:16M,queues=0" --runtime 100ms 2>&1) &&
	fail "queues=0 accepted"
grep -q "mem: queues=0: must be 1..256" <<<"$err" || fail "queues=0 not refused by name: $err"
echo ok
