#!/usr/bin/env bash
# Alternating A/B of commands that each print one number (IOPS, say): every round runs
# each command once, in order; prints every value sorted and the median per label.
# What docs/perf.md's side measurements (huge pages, complete_min, wait modes) used.
#
# usage: bench/ab.sh ROUNDS "LABEL|COMMAND" ["LABEL|COMMAND" ...]
# e.g.   bench/ab.sh 5 "fio|fio ... --output-format=json | jq '.jobs[0].read.iops|floor'" \
#                    "rawio|build/release/tools/rawio bench ... --json | jq '.iops|floor'"
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
rounds=$1
shift
declare -A vals
for _ in $(seq 1 "$rounds"); do
	for c in "$@"; do
		vals[${c%%|*}]+=" $(bash -c "${c#*|}")"
	done
done
for c in "$@"; do
	l=${c%%|*}
	sorted=$(tr ' ' '\n' <<<"${vals[$l]}" | grep . | sort -n | tr '\n' ' ')
	median=$(tr ' ' '\n' <<<"$sorted" | grep . | awk '{ a[NR] = $1 }
		END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
	echo "$l: $sorted median $median"
done
