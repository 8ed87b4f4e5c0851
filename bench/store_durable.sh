#!/usr/bin/env bash
# Durable puts, A/B: two rawio binaries (say, before and after a change to the put
# path) alternate round by round (bench/ab.sh), each on a fresh store file in DIR
# (default: a temporary directory under $TMPDIR or /tmp). Cases: 4 KiB values (8 KiB
# slots) and 4 MiB values (8 MiB slots), from 1 and from 8 threads (--fill-threads:
# concurrent durable puts, whose flushes the filesystem may share). Prints puts/s per
# run, sorted, and the median per label; `uptime` before and after. PREWRITE=1 writes
# each store file with zeros first (blocks allocated and written: the steady state of a
# store whose slots are reused; without it every put also allocates file blocks).
# A_FILL / B_FILL: more options for A's / B's fill, e.g. B_FILL="--group-commit auto" with
# the same binary twice: group commit against none (an older binary has no such flag).
# The whole put table against fio is bench/puts.sh.
#
# usage: [PREWRITE=1] [A_FILL=...] [B_FILL=...] bench/store_durable.sh A_RAWIO B_RAWIO [ROUNDS] [DIR]
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
a=$(realpath "$1")
b=$(realpath "$2")
rounds=${3:-5}
dir=${4:-}
if [ -z "$dir" ]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/rawio-durable.XXXXXX")
	trap 'rm -rf "$dir"' EXIT
fi
ab=$(dirname "$0")/ab.sh

# run BIN TAG COUNT OBJ SLOT THREADS: one fresh store, COUNT durable puts; prints puts/s.
run() {
	local size=$(($3 * $5 + (4 << 20))) pre="" extra
	[ "${PREWRITE:-0}" = 1 ] && pre="head -c $size /dev/zero >$dir/$2.img && sync $dir/$2.img && "
	[ "$2" = a ] && extra=${A_FILL:-} || extra=${B_FILL:-}
	echo "rm -f $dir/$2.img; $pre$1 store format $dir/$2.img --size $size --force \
--slot-size $5 >/dev/null && $1 store fill $dir/$2.img --count $3 --obj-size $4 \
--fill-threads $6 --durable $extra --json | jq '.puts_per_s | floor'; rm -f $dir/$2.img"
}

uptime
df -T "$dir" | tail -1
for t in 1 8; do
	echo "== 4 KiB values, $t thread(s)"
	"$ab" "$rounds" "A|$(run "$a" a 1500 4096 8192 $t)" "B|$(run "$b" b 1500 4096 8192 $t)"
	echo "== 4 MiB values, $t thread(s)"
	"$ab" "$rounds" "A|$(run "$a" a 24 4194304 8388608 $t)" \
		"B|$(run "$b" b 24 4194304 8388608 $t)"
done
uptime
