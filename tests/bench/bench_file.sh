#!/usr/bin/env bash
# rawio bench on a small file with every fd engine: --create --fill lays it out, each engine
# reads and writes it, the lat log has one line per I/O.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Direct I/O needs a real filesystem: the build tree's (not tmpfs, which has no O_DIRECT
# cost and may refuse it).
dir=$(mktemp -d "$PWD/bench-file.XXXXXX")
cleanup_more() { rm -rf "$dir"; }
f=$dir/t.img

j=$("$RAWIO" bench --engine sync --file "$f" --create --fill --size 4M --rw read --bs 64k \
	--runtime 0 --json --no-progress) || fail "create and fill"
jcheck "$j" '.filled == true and .ios == 64' "created, filled, read once"
[ "$(stat -c %s "$f")" -eq $((4 << 20)) ] || fail "file size"
# Random data, not zeroes (zram and compressing filesystems must not get an easy ride).
[ "$(od -An -tx1 -N4096 "$f" | tr -d ' \n' | tr -d 0 | wc -c)" -gt 1000 ] || fail "not filled"
j=$("$RAWIO" bench --engine sync --file "$f" --create --fill --size 4M --runtime 0 --json \
	--no-progress)
jcheck "$j" '.filled == false' "an existing file is not filled again"
# --fill-always on a read pattern: the file is opened for writing too, refilled, then read.
truncate -s 1M "$dir/zero.img"
j=$("$RAWIO" bench --engine sync --file "$dir/zero.img" --fill-always --rw randread \
	--runtime 0 --json --no-progress) || fail "--fill-always with randread"
jcheck "$j" '.filled == true and .ios == 256' "--fill-always refilled, then read"
[ "$(od -An -tx1 -N4096 "$dir/zero.img" | tr -d ' \n' | tr -d 0 | wc -c)" -gt 1000 ] ||
	fail "--fill-always did not write"

for e in sync threads aio uring; do
	for rw in randread randwrite; do
		j=$("$RAWIO" bench --engine $e --file "$f" --rw $rw --qd 4 --runtime 200ms \
			--ramp 50ms --json --no-progress --lat-log "$dir/lat.log") ||
			fail "$e $rw"
		n=$(jq .ios <<<"$j")
		[ "$n" -gt 0 ] || fail "$e $rw: no I/O"
		[ "$(wc -l <"$dir/lat.log")" -eq "$n" ] || fail "$e $rw: log lines != $n"
		jcheck "$j" '.syscalls.submit > 0' "$e $rw: $n I/Os, system calls counted"
	done
done
# A regular file is not a device without NOWAIT: uring does not force io-wq (bench_zram does).
jcheck "$j" '.engine_desc | test("async=no")' "uring on a file: $(jq -r .engine_desc <<<"$j")"
echo "PASS"
