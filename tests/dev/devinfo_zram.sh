#!/usr/bin/env bash
# rawio devinfo on a zram device of its own (256 MiB) against blockdev, lsblk and sysfs;
# removes the device on every exit path.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_root
need_tool blockdev lsblk dd

cleanup() {
	set +e
	zram_release
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
zram_acquire 256M

devinfo_json "$ZRAM_DEV"
echo "$DEVINFO"
expect kind block
expect direct true
expect size "$(blockdev --getsize64 "$ZRAM_DEV")"
expect size $((256 << 20))
expect logical_block_size "$(blockdev --getss "$ZRAM_DEV")"
expect physical_block_size "$(blockdev --getpbsz "$ZRAM_DEV")"
expect_queue "$ZRAM_NAME"
expect_dio_align "$ZRAM_NAME"
expect rotational false
expect fs_type null

oa=$(field offset_align)
dd if="$ZRAM_DEV" of=/dev/null bs="$oa" count=1 iflag=direct status=none ||
	fail "O_DIRECT read of $oa bytes refused"
echo "PASS"
