#!/usr/bin/env bash
# Resources and leftovers (issue 19): a failed `cache format` leaves the
# filesystem as it found it: files it created are removed, an existing
# backing file it grew is truncated back.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-cache-left.XXXXXX")
trap 'rm -rf "$work"' EXIT
out="$work/out"

# 64 KiB cannot hold a cache: the format fails after both files were made.
status 1 $RAWIO cache format "$work/c.img" "$work/b.img" --size 64k --backing-size 1G
says "cannot hold"
[ ! -e "$work/c.img" ] || fail "the failed format left c.img"
[ ! -e "$work/b.img" ] || fail "the failed format left b.img"
truncate -s 1M "$work/b1.img"
status 1 $RAWIO cache format "$work/c.img" "$work/b1.img" --size 64k --backing-size 1G
[ "$(stat -c %s "$work/b1.img")" -eq 1048576 ] ||
	fail "the failed format grew b1.img to $(stat -c %s "$work/b1.img") bytes"
[ ! -e "$work/c.img" ] || fail "the failed format left c.img"
# A format that succeeds keeps what it made.
status 0 $RAWIO cache format "$work/c.img" "$work/b.img" --size 16M --backing-size 64M
[ -e "$work/c.img" ] && [ -e "$work/b.img" ] || fail "a good format lost its files"
