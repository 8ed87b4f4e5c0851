#!/usr/bin/env bash
# rawio bench on zram (a kernel RAM block device) with the async engines: reads and writes
# land (page-aligned buffers: zram writes whole pages for a direct read into a buffer that is
# only sector-aligned), and a block size below zram's 4 KiB logical block is refused before
# any I/O. Takes RESOURCE_LOCK zram; resets zram0 on every exit path.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root"
if [ ! -e /sys/block/zram0 ]; then
	modprobe zram 2>/dev/null || true
	[ -e /sys/block/zram0 ] || skip "no zram0"
fi
if grep -qs '^/dev/zram0 ' /proc/mounts /proc/swaps || [ -n "$(ls /sys/block/zram0/holders)" ]; then
	skip "zram0 is in use"
fi
# A sized zram0 holds someone's data (a benchmark, a raw store): never reset it. A run that
# was killed before its trap ran leaves one behind: free it with
# `echo 1 > /sys/block/zram0/reset`.
if [ "$(cat /sys/block/zram0/disksize)" != 0 ]; then
	skip "zram0 is in use (disksize $(cat /sys/block/zram0/disksize)); not resetting it"
fi
armed=""
cleanup_more() { [ -n "$armed" ] && echo 1 >/sys/block/zram0/reset; }
armed=1
echo 64M >/sys/block/zram0/disksize || skip "cannot size zram0"

j=$("$RAWIO" bench --engine sync --file /dev/zram0 --rw write --bs 1M --runtime 0 --json \
	--no-progress)
jcheck "$j" '.ios == 64' "filled"
status 1 "$RAWIO" bench --engine aio --file /dev/zram0 --bs 512 --runtime 100ms --no-progress
says "block size 512 is not a multiple of /dev/zram0's direct I/O alignment"
for e in aio uring; do
	for bs in 4k 16k; do
		j=$("$RAWIO" bench --engine $e --file /dev/zram0 --bs $bs --qd 16 --rw randrw \
			--runtime 200ms --ramp 0 --json --no-progress) || fail "$e bs $bs"
		jcheck "$j" '.ios > 100' "$e bs $bs: $(jq .iops <<<"$j") IOPS"
	done
done
echo "PASS"
