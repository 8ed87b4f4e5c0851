#!/usr/bin/env bash
# rawio bench --phases on the engines that keep no tags (sync, threads, aio, uring):
# every request is stamped (the phases' count is the I/Os'), Q2G is 0 (no tags),
# D2C holds the I/O, and the four gaps' means add up to Q2R's (issue 18).
set -euo pipefail
. "$RAWIO_TESTS/lib.sh"
need_tool jq

scratch phases

ran=0
for eng in sync threads aio uring; do
	if ! j=$("$RAWIO" bench --engine $eng --file "$work/f" --create --size 4M --rw randrw \
		--qd 8 --runtime 200ms --ramp 0 --phases --json --no-progress 2>"$work/err"); then
		# An engine this kernel or build lacks is not this test's business.
		grep -qiE "not supported|no such engine|ENOSYS|EOPNOTSUPP|unknown engine" "$work/err" &&
			{ echo "skip: $eng: $(cat "$work/err")"; continue; }
		cat "$work/err" >&2
		fail "$eng: rawio bench --phases failed"
	fi
	ran=$((ran + 1))
	for p in Q2G G2D D2C C2R Q2R; do
		jcheck "$j" ".phases_ns.$p.count > 0" "$eng: phase $p"
	done
	jcheck "$j" '.phases_ns.Q2R.count >= .ios' "$eng: every request stamped"
	jcheck "$j" '.phases_ns.Q2G.mean == 0' "$eng: no tags, Q2G is 0"
	jcheck "$j" '.phases_ns.D2C.mean > 0' "$eng: D2C holds the I/O"
	# Means add exactly; the histogram's buckets round each within 0.8%.
	jcheck "$j" '([.phases_ns.Q2G, .phases_ns.G2D, .phases_ns.D2C, .phases_ns.C2R] |
		map(.mean) | add) as $s | ($s - .phases_ns.Q2R.mean | fabs) <= 0.05 * .phases_ns.Q2R.mean' \
		"$eng: the gaps add up to Q2R"
	echo "ok: $eng: $(jq -c '.phases_ns | with_entries(.value |= (.mean | floor))' <<<"$j")"
done
[ $ran -gt 0 ] || skip "no engine ran"
echo ok
