#!/usr/bin/env bash
# rawio devinfo on a loop device of SECTOR-byte sectors with one partition,
# on the partition (where the kernel parses MBRs), and on a file in ext4, xfs
# and btrfs made on the partition (else on the whole device):
# every number must be what blockdev, lsblk and sysfs say (for files: of the
# disk under the partition), and the kernel must take and refuse the direct
# I/O we predict. btrfs also covers its anonymous st_dev (disk found through
# /proc/self/mountinfo). A filesystem that cannot be made or mounted is skipped
# with a note; the device checks still count.
# usage: devinfo_loop.sh SECTOR
set -euo pipefail
. "$(dirname "$0")/lib.sh"

sector=${1:-512}
need_root
need_tool losetup blockdev lsblk dd mount umount truncate stat

work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-devinfo-loop.XXXXXX")
loop=""
mnt=""
cleanup() {
	set +e
	[ -n "$mnt" ] && umount "$mnt"
	[ -n "$loop" ] && losetup -d "$loop"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# le32 N: N as 4 little-endian bytes, in printf escapes.
le32() {
	printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) \
		$((($1 >> 16) & 255)) $((($1 >> 24) & 255))
}

# A 512 MiB sparse image with an MBR: one Linux partition from 1 MiB, 448 MiB
# long (xfs wants 300 MiB). MBR addresses count logical sectors of the device.
img="$work/img"
truncate -s 512M "$img"
part_start=$((1048576 / sector))
part_len=$((448 * 1048576 / sector))
printf "\\x00\\x00\\x02\\x00\\x83\\xfe\\xff\\xff$(le32 $part_start)$(le32 $part_len)" |
	dd of="$img" bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of="$img" bs=1 seek=510 conv=notrunc status=none

loop=$(losetup -f --show -P --sector-size "$sector" "$img") || skip "cannot attach a loop device"
disk=${loop#/dev/}
part="${loop}p1"
for _ in $(seq 10); do
	[ -b "$part" ] && break
	sleep 0.1
done
if [ ! -b "$part" ]; then
	# Kernels without partition parsers (CONFIG_MSDOS_PARTITION=n) see none.
	echo "note: the kernel found no partition on $loop; filesystems go on the whole device"
	part=""
fi
fsdev=${part:-$loop}

echo "== $loop ($sector-byte sectors)"
devinfo_json "$loop"
echo "$DEVINFO"
expect path "$loop"
expect kind block
expect direct true
expect size "$(blockdev --getsize64 "$loop")"
expect logical_block_size "$(blockdev --getss "$loop")"
expect physical_block_size "$(blockdev --getpbsz "$loop")"
expect logical_block_size "$sector"
expect_queue "$disk"
expect_dio_align "$disk"
expect fs_type null
case $(field align_source) in
statx | blksszget) ;;
*) fail "align_source $(field align_source) for a block device" ;;
esac

# The kernel agrees: one offset_align block reads O_DIRECT, half a block does not.
oa=$(field offset_align)
dd if="$loop" of=/dev/null bs="$oa" count=1 iflag=direct status=none ||
	fail "O_DIRECT read of $oa bytes refused"
if [ "$oa" -gt 512 ]; then
	if dd if="$loop" of=/dev/null bs=$((oa / 2)) count=1 iflag=direct status=none 2>/dev/null; then
		fail "O_DIRECT read of $((oa / 2)) bytes accepted; offset_align $oa is too strict"
	fi
	echo "ok: a $((oa / 2))-byte O_DIRECT read is refused"
fi

if [ -n "$part" ]; then
	echo "== $part (a partition: its own size, its disk's queue)"
	devinfo_json "$part"
	echo "$DEVINFO"
	expect kind block
	expect size "$(blockdev --getsize64 "$part")"
	expect size $((448 << 20))
	expect logical_block_size "$(blockdev --getss "$part")"
	expect_queue "$disk"
	expect_dio_align "$disk"
fi

# check_fs FS APPEND_CONCURRENCY FSYNC_EXCLUSIVE MKFS...: a file on FS on $fsdev.
check_fs() {
	local fs=$1 conc=$2 fsync_excl=$3
	shift 3
	echo "== a file on $fs on $fsdev"
	if ! command -v "$1" >/dev/null || ! "$@" "$fsdev" >/dev/null 2>&1; then
		echo "note: cannot make $fs here; not checked"
		return 0
	fi
	mkdir -p "$work/mnt"
	if ! mount -t "$fs" "$fsdev" "$work/mnt" 2>/dev/null; then
		echo "note: cannot mount $fs here; not checked"
		return 0
	fi
	mnt="$work/mnt"
	dd if=/dev/zero of="$mnt/f" bs=1M count=1 status=none
	devinfo_json "$mnt/f"
	echo "$DEVINFO"
	expect kind file
	expect direct true
	expect size 1048576
	expect fs_type "$fs"
	expect fs_block_size "$(stat -f -c %S "$mnt/f")"
	expect_queue "$disk"
	case $fs in
	btrfs)
		# btrfs holds direct I/O to its own sector size (f_bsize) as well.
		local want=$(($(stat -f -c %S "$mnt/f") > sector ? $(stat -f -c %S "$mnt/f") : sector))
		if [ "$(field align_source)" = statx ]; then
			[ "$(field offset_align)" -ge "$sector" ] || fail "offset_align below the sector size"
		else
			expect align_source sysfs
			expect offset_align "$want"
			expect mem_align "$want"
		fi
		;;
	*) expect_dio_align "$disk" ;;
	esac
	expect fs_traits.append_challenged true
	expect fs_traits.append_concurrency "$conc"
	expect fs_traits.fsync_is_exclusive "$fsync_excl"
	expect fs_traits.nowait_reads true
	expect fs_traits.nowait_writes false
	expect fs_traits.dio_never_blocks false
	umount "$mnt"
	mnt=""
}

check_fs ext4 0 false mkfs.ext4 -q -F -b 4096
check_fs xfs 1 true mkfs.xfs -q -f
check_fs btrfs 0 true mkfs.btrfs -q -f
echo "PASS"
