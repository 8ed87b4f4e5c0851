#!/usr/bin/env bash
# rawio bench on zram (a kernel RAM block device) with the async engines: reads and writes
# land (page-aligned buffers: zram writes whole pages for a direct read into a buffer that is
# only sector-aligned), and a block size below zram's 4 KiB logical block is refused before
# any I/O. Uses a zram device of its own, removed on every exit path.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_root
cleanup_more() { zram_release; }
zram_acquire 64M

j=$("$RAWIO" bench --engine sync --file "$ZRAM_DEV" --rw write --bs 1M --runtime 0 --json \
	--no-progress)
jcheck "$j" '.ios == 64' "filled"
status 1 "$RAWIO" bench --engine aio --file "$ZRAM_DEV" --bs 512 --runtime 100ms --no-progress
says "block size 512 is not a multiple of $ZRAM_DEV's direct I/O alignment"
for e in aio uring; do
	for bs in 4k 16k; do
		j=$("$RAWIO" bench --engine $e --file "$ZRAM_DEV" --bs $bs --qd 16 --rw randrw \
			--runtime 200ms --ramp 0 --json --no-progress) || fail "$e bs $bs"
		jcheck "$j" '.ios > 100' "$e bs $bs: $(jq .iops <<<"$j") IOPS"
	done
done
# zram has no NOWAIT: at depth uring measures IOSQE_ASYNC (every request straight to io-wq,
# several workers) against without (one worker) and keeps the faster; at depth 1 it always sets
# it. A file on a filesystem whose reads have NOWAIT gets neither.
jcheck "$j" '.engine_desc | test("async=measured")' "uring on zram: $(jq -r .engine_desc <<<"$j")"
# ... and reaps from 1 by default, as on the thread-pool engines (io-wq finishes one request at
# a time), where aio on the same device waits for qd/8.
jcheck "$j" '.complete_min == 1 and (has("engine_auto_why") | not)' \
	"uring on zram reaps from $(jq .complete_min <<<"$j") (and says no auto pick)"
# With a CPU to spare the job is pinned and io-wq's workers kept on the other CPUs (iowq=away);
# --no-pin leaves both to the scheduler.
if [ "$(nproc)" -ge 2 ]; then
	jcheck "$j" '.engine_desc | test(" iowq=away$")' "uring on zram pins: $(jq -r .engine_desc <<<"$j")"
	j=$("$RAWIO" bench --engine uring --file "$ZRAM_DEV" --qd 16 --rw randread --runtime 100ms \
		--ramp 0 --no-pin --json --no-progress) || fail "uring --no-pin"
	jcheck "$j" '.engine_desc | test("iowq=") | not' "--no-pin: $(jq -r .engine_desc <<<"$j")"
	j=$("$RAWIO" bench --engine uring --file "$ZRAM_DEV" --qd 16 --rw randread --runtime 100ms \
		--ramp 0 --jobs "$(nproc)" --json --no-progress) || fail "uring, a job per CPU"
	jcheck "$j" '.engine_desc | test("iowq=") | not' "a job per CPU: no CPU to spare"
fi
j=$("$RAWIO" bench --engine aio --file "$ZRAM_DEV" --qd 16 --rw randread --runtime 100ms \
	--ramp 0 --json --no-progress) || fail "aio qd 16"
jcheck "$j" '.complete_min == 2' "aio on zram reaps from $(jq .complete_min <<<"$j")"
j=$("$RAWIO" bench --engine uring --file "$ZRAM_DEV" --qd 1 --rw randread --runtime 100ms \
	--ramp 0 --json --no-progress) || fail "uring qd 1"
jcheck "$j" '.engine_desc | test("async=yes")' "uring on zram, qd 1: $(jq -r .engine_desc <<<"$j")"
# So engine "auto" picks uring there at depth (ahead of aio, docs/perf.md), sync at depth 1.
j=$("$RAWIO" devinfo "$ZRAM_DEV" --json) || fail "devinfo $ZRAM_DEV"
jcheck "$j" '.engine_auto.qd32.engine == "uring" and .engine_auto.qd1.engine == "sync"' \
	"auto on zram: qd 32 $(jq -r .engine_auto.qd32.engine <<<"$j"), qd 1 $(jq -r \
	.engine_auto.qd1.engine <<<"$j")"
j=$("$RAWIO" bench --file "$ZRAM_DEV" --qd 16 --rw randread --runtime 100ms --ramp 0 --json \
	--no-progress) || fail "bench --engine auto on zram"
jcheck "$j" '(.engine_desc | test("async=measured")) and .complete_min == 1' \
	"auto bench on zram: $(jq -r .engine_desc <<<"$j"), complete_min $(jq .complete_min <<<"$j")"
# Data read through that path: a store's recovery reads and checks every header (crc) with uring.
"$RAWIO" store format "$ZRAM_DEV" --slot-size 64K --size 16M --force >/dev/null
head -c 50000 /dev/urandom >"$scratch/obj"
for k in a b c; do "$RAWIO" store put "$ZRAM_DEV" $k "$scratch/obj" --durable; done
j=$("$RAWIO" store recover "$ZRAM_DEV" --engine uring --json) || fail "store recover (uring)"
jcheck "$j" '.validated == 3 and .dropped_corrupt == 0 and .dropped_io == 0' \
	"uring recovery on zram validated 3 headers"
"$RAWIO" store check "$ZRAM_DEV" --engine uring >/dev/null || fail "store check (uring)"
echo "PASS"
