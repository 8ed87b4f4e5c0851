#!/usr/bin/env bash
# rawio bench --class: a "classes" array (name, shares, iops, bytes, latency percentiles)
# and a "sched" object in --json; --io-properties read (a model) or absent (pass-through);
# --no-sched; bad class specs and a malformed properties file refused, naming the line.
set -euo pipefail
. "$RAWIO_TESTS/lib.sh"
need_tool jq
scratch bench-classes

io_props "$work/p.yaml" mem 2000 1G 2000 1G
run() { "$RAWIO" bench --engine mem --file mem:64m --runtime 500ms --ramp 100ms --qd 4 \
	--no-progress --json "$@"; }

j=$(run --class fg:400 --class bg:100:randwrite:8k:2 --io-properties "$work/p.yaml")
jcheck "$j" '(.classes | length) == 2' "two classes"
jcheck "$j" '.classes[0].name == "fg" and .classes[0].shares == 400 and .classes[0].rw == "randread"
	and .classes[0].qd == 4 and .classes[0].bs == 4096' "class fg as given"
jcheck "$j" '.classes[1].name == "bg" and .classes[1].rw == "randwrite" and .classes[1].bs == 8192
	and .classes[1].qd == 2' "class bg's own pattern"
for k in iops bytes ios mbps; do
	jcheck "$j" "(.classes[0] | has(\"$k\")) and .classes[0].$k > 0" "class has $k"
done
for k in p50 p90 p99 p999 max; do
	jcheck "$j" ".classes[0].lat_ns | has(\"$k\")" "latency $k"
done
jcheck "$j" '.sched.model == true and .sched.latency_goal_ns == 750000' "model from the file"
jcheck "$j" '.classes[0].ios + .classes[1].ios == .ios' "ios add up"
echo "ok: classes with a model"

j=$(run --class a:100 --class b:100)
jcheck "$j" '.sched.model == false and (.sched.desc | test("pass-through"))' "pass-through"
j=$(run --class a:100 --class b:100 --no-sched)
jcheck "$j" '(.sched.desc | test("none")) and (.classes | length) == 2' "no scheduler"
echo "ok: pass-through and none"

status 2 "$RAWIO" bench --engine mem --file mem:64m --class a
says "NAME:SHARES"
status 2 "$RAWIO" bench --engine mem --file mem:64m --class a:0
status 2 "$RAWIO" bench --engine mem --file mem:64m --class a:1:sideways
says "sideways"
printf 'disks:\n  - mountpoint: /\n    read_iops: many\n' >"$work/bad.yaml"
status 2 "$RAWIO" bench --engine mem --file mem:64m --class a:1 --io-properties "$work/bad.yaml"
says "bad.yaml: line 3: read_iops"
status 1 "$RAWIO" bench --engine mem --file mem:64m --class a:1 --jobs 2
says "one job"
echo "ok: errors"
