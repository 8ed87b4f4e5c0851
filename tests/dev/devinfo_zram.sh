#!/usr/bin/env bash
# rawio devinfo on zram0 (256 MiB) against blockdev, lsblk and sysfs.
# Takes RESOURCE_LOCK zram; resets zram0 on every exit path.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_root
need_tool blockdev lsblk dd

if [ ! -e /sys/block/zram0 ]; then
	modprobe zram 2>/dev/null || true
	[ -e /sys/block/zram0 ] || skip "no zram0 (modprobe zram failed)"
fi
# Never take a zram0 that something uses (mounted, swap, or held open).
if grep -qs '^/dev/zram0 ' /proc/mounts /proc/swaps || [ -n "$(ls /sys/block/zram0/holders)" ]; then
	skip "zram0 is in use"
fi

armed=""
cleanup() {
	set +e
	[ -n "$armed" ] && echo 1 >/sys/block/zram0/reset
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# A sized zram0 holds someone's data (a benchmark, a raw store): never reset it. A run that
# was killed before its trap ran leaves one behind: free it with
# `echo 1 > /sys/block/zram0/reset`.
if [ "$(cat /sys/block/zram0/disksize)" != 0 ]; then
	skip "zram0 is in use (disksize $(cat /sys/block/zram0/disksize)); not resetting it"
fi
armed=1
echo 256M >/sys/block/zram0/disksize || skip "cannot size zram0"

devinfo_json /dev/zram0
echo "$DEVINFO"
expect kind block
expect direct true
expect size "$(blockdev --getsize64 /dev/zram0)"
expect size $((256 << 20))
expect logical_block_size "$(blockdev --getss /dev/zram0)"
expect physical_block_size "$(blockdev --getpbsz /dev/zram0)"
expect_queue zram0
expect_dio_align zram0
expect rotational false
expect fs_type null

oa=$(field offset_align)
dd if=/dev/zram0 of=/dev/null bs="$oa" count=1 iflag=direct status=none ||
	fail "O_DIRECT read of $oa bytes refused"
echo "PASS"
