#!/usr/bin/env bash
# nbdcopy of 128 MiB of random data into the plugin and back out, on a file
# (O_DIRECT, and buffered=true), on mem: and on a cache over a throttled ("hdd") backing: cmp equal. The file
# and the cache are then served again (after nbdkit's clean exit) and read
# once more; the cache must check consistent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_tool nbdcopy cmp

size=128M
scratch fe-roundtrip
head -c $size /dev/urandom >"$work/in"

# roundtrip NAME PARAMS...: copy in and out, compare.
roundtrip() {
	local name=$1
	shift
	rm -f "$work/out"
	serve "$@" -- "nbdcopy '$work/in' \"\$uri\" && nbdcopy \"\$uri\" '$work/out'" ||
		fail "$name: nbdcopy through the plugin failed"
	cmp "$work/in" "$work/out" || fail "$name: what came out is not what went in"
	echo "ok: $name: $size in and out"
}

# reread NAME PARAMS...: read what a previous nbdkit wrote.
reread() {
	local name=$1
	shift
	rm -f "$work/out"
	serve "$@" -- "nbdcopy \"\$uri\" '$work/out'" || fail "$name: read back failed"
	cmp "$work/in" "$work/out" || fail "$name: differs after nbdkit exited and served again"
	echo "ok: $name: the same after a restart"
}

truncate -s $size "$work/file.img"
roundtrip file "dev=$work/file.img"
reread file "dev=$work/file.img"
# buffered=true (page cache): what it wrote reads back O_DIRECT after nbdkit's exit.
rm -f "$work/file.img"
truncate -s $size "$work/file.img"
roundtrip file-buffered "dev=$work/file.img" buffered=true
reread file-buffered "dev=$work/file.img"

roundtrip mem dev=mem:$size

fresh_cache "$work" 48M $size
roundtrip cache "cache=$work/cache.img" "backing=$work/backing.img" backing-throttle=hdd
reread cache "cache=$work/cache.img" "backing=$work/backing.img"
out="$work/check.out"
status 0 "$RAWIO" cache check "$work/cache.img" "$work/backing.img"
says consistent
