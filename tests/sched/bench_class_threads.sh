#!/usr/bin/env bash
# rawio bench --class-threads: each class in a thread of its own through a context of the
# one scheduler (sched.contexts counts them), a class's nice increment applied to its thread
# (the JSON's nice is what the thread read back), the same with --no-sched; a nice without
# --class-threads, or above 19, refused.
set -euo pipefail
. "$RAWIO_TESTS/lib.sh"
need_tool jq
scratch bench-class-threads

io_props "$work/p.yaml" mem 2000 1G 2000 1G
run() { "$RAWIO" bench --engine mem --file mem:64m --runtime 300ms --ramp 100ms --qd 4 \
	--no-progress --json "$@"; }
base=$(nice)
want=$((base + 5 > 19 ? 19 : base + 5))

j=$(run --class-threads --class fg:400 --class bg:100:randwrite:8k:2:5 --io-properties "$work/p.yaml")
jcheck "$j" '.sched.class_threads == true and .sched.contexts == 2' "a context per class"
jcheck "$j" '.sched.model == true' "model from the file"
jcheck "$j" ".classes[0].nice == $base and .classes[1].nice == $want" "nice as given"
jcheck "$j" '.classes[0].ios > 0 and .classes[1].ios > 0' "both classes progress"
jcheck "$j" '.classes[0].ios + .classes[1].ios == .ios' "ios add up"
jcheck "$j" '.classes[1].rw == "randwrite" and .classes[1].bs == 8192 and .classes[1].qd == 2' \
	"class bg's own pattern"
echo "ok: a thread per class through the scheduler"

j=$(run --class-threads --no-sched --class a:100 --class b:100:randread:4k:4:3)
jcheck "$j" '(.sched.desc | test("none")) and .sched.contexts == 0' "no scheduler"
jcheck "$j" '.classes[0].ios > 0 and .classes[1].ios > 0' "both classes progress without it"
echo "ok: a thread per class without the scheduler"

j=$(run --class a:100 --class b:100)
jcheck "$j" '.sched.class_threads == false and .sched.contexts == 0' "one thread by default"

status 2 "$RAWIO" bench --engine mem --file mem:64m --class a:1:randread:4k:4:3
says "class-threads"
status 2 "$RAWIO" bench --engine mem --file mem:64m --class-threads --class a:1:randread:4k:4:20
echo "ok: errors"
