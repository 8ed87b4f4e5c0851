#!/usr/bin/env bash
# Resources and leftovers (issue 19): `rawio demo --size` too large for RAM
# fails before it makes anything: no directory, no image left behind.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-demo-left.XXXXXX")
trap 'rm -rf "$work"' EXIT
out="$work/out"
mem_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
swap_kib=$(awk '/^SwapTotal:/ {print $2}' /proc/meminfo)
# Four times RAM + swap: the RAM twin of the image cannot be had.
big=$(((mem_kib + swap_kib) * 4))K
status 1 $RAWIO demo --dir "$work/d" --size "$big"
says "RAM device"
[ ! -e "$work/d/demo.img" ] || fail "the failed demo left $(stat -c %s "$work/d/demo.img") bytes"
[ ! -e "$work/d" ] || fail "the failed demo left its directory"
