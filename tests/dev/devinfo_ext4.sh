#!/usr/bin/env bash
# rawio devinfo on a file in the current directory (ctest: the build
# directory), which must be on ext4: the disk found must be the one
# findmnt and lsblk name, with its queue properties and block sizes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_tool findmnt lsblk dd stat

f="$PWD/devinfo_ext4.$$.tmp"
cleanup() {
	rm -f "$f"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

dd if=/dev/zero of="$f" bs=64k count=3 status=none
[ "$(findmnt -no FSTYPE -T "$f" | tail -n1)" = ext4 ] || skip "$PWD is not on ext4"
src=$(findmnt -no SOURCE -T "$f" | tail -n1)
[ -b "$src" ] || skip "$PWD is on $src, not a block device"
# The disk under the filesystem: the source itself, or its parent if a partition.
disk=$(lsblk -no PKNAME "$src" | head -n1)
[ -n "$disk" ] || disk=$(lsblk -dno KNAME "$src")
[ -d "/sys/block/$disk" ] || skip "no /sys/block/$disk (stacked device?)"

devinfo_json "$f"
echo "$DEVINFO"
expect path "$f"
expect kind file
expect direct true
expect read_only true
expect size "$(stat -c %s "$f")"
expect fs_type ext4
expect fs_block_size "$(stat -f -c %S "$f")"
expect fs_magic $((0xef53))
expect_queue "$disk"
expect_dio_align "$disk"
expect align_source statx
expect fs_traits.append_challenged true
expect fs_traits.append_concurrency 0
expect fs_traits.fsync_is_exclusive false
expect fs_traits.nowait_reads true
expect fs_traits.nowait_writes false
expect fs_traits.dio_never_blocks false
expect kernel_release "$(uname -r)"
echo "PASS"
