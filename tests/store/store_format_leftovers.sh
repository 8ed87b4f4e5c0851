#!/usr/bin/env bash
# Resources and leftovers (issue 19): a store whose index would need more than
# half of this machine's RAM at every open is refused at format time, naming
# the path and the RAM (unless --force); a failed `store format` leaves the
# filesystem as it found it: a file it created is removed, a file it grew is
# truncated back.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-leftovers.XXXXXX")
trap 'rm -rf "$work"' EXIT
out="$work/out"
mem_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
# 4 KiB slots cost about 60 bytes of index each: a size whose index needs all of RAM.
big=$((mem_kib / 60 * 4 * 1024))K

status 1 $RAWIO store format "$work/big.img" --size "$big" --slot-size 4k
says "big.img: .* MiB of RAM for the index"
[ ! -e "$work/big.img" ] || fail "a failed format left $(stat -c %s "$work/big.img") bytes behind"

truncate -s 1M "$work/small.img"
status 1 $RAWIO store format "$work/small.img" --size "$big" --slot-size 4k
[ "$(stat -c %s "$work/small.img")" -eq 1048576 ] ||
	fail "a failed format grew small.img to $(stat -c %s "$work/small.img") bytes"

# --size on an existing larger file: refused (rawio does not shrink files), for
# store format and for both cache devices; nothing is written.
truncate -s 32M "$work/s32.img"
status 1 $RAWIO store format "$work/s32.img" --size 16M --slot-size 64k
says "larger than the size asked for"
[ "$(stat -c %s "$work/s32.img")" -eq $((32 << 20)) ] || fail "store format changed the size"
status 0 $RAWIO store format "$work/s32.img" --slot-size 64k
truncate -s 32M "$work/c.img"
status 1 $RAWIO cache format "$work/c.img" "$work/b.img" --size 16M --backing-size 64M
says "c.img: the file is .* larger than the size asked for"
truncate -s 64M "$work/b2.img"
status 1 $RAWIO cache format "$work/c.img" "$work/b2.img" --backing-size 32M
says "b2.img: the file is"

# Forced, the format goes through; an open that cannot get the index names the
# path and the slot count (before: a bare "Cannot allocate memory").
status 0 $RAWIO store format "$work/forced.img" --size "$big" --slot-size 4k --force
# (A sanitizer's shadow memory cannot live under ulimit -v: that build skips this step.)
if ldd "$RAWIO" 2>/dev/null | grep -E 'lib(a|t)san' >/dev/null; then
	echo "skip: the out-of-memory open under ulimit -v (sanitizer build)"
else
	status 1 bash -c "ulimit -v 2000000; exec $RAWIO store ls '$work/forced.img'"
	says "forced.img: the index of [0-9]+ slots does not fit in memory"
fi
