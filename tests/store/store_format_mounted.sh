#!/usr/bin/env bash
# Commands that destroy data without asking (issue 19): `store format --force`
# and `cache format --force` on a block device with a mounted filesystem are
# refused (as mkfs refuses), at once, naming the mount point; the filesystem
# is intact afterwards. Needs root, a loop device and mkfs.ext4.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
need_root
need_tool losetup mkfs.ext4 mount umount
work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-mounted.XXXXXX")
loop=""
mnt="$work/mnt"
cleanup() {
	mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
	[ -n "$loop" ] && losetup -d "$loop"
	rm -rf "$work"
}
trap cleanup EXIT
out="$work/out"

truncate -s 64M "$work/fs.img"
mkfs.ext4 -q -F "$work/fs.img" || skip "mkfs.ext4 failed"
loop=$(losetup -f --show "$work/fs.img" 2>/dev/null) || { loop=""; skip "no loop device"; }
mkdir "$mnt"
mount "$loop" "$mnt" 2>/dev/null || skip "cannot mount ext4"
echo "keep me" >"$mnt/file"
sync

status 1 $RAWIO store format "$loop" --force --slot-size 64k --lock-wait 60000
says "mounted at $mnt"
truncate -s 16M "$work/c.img"
status 1 $RAWIO cache format "$work/c.img" "$loop" --force --lock-wait 60000
says "mounted at $mnt"
status 2 $RAWIO bench --engine sync --file "$loop" --rw write --size 4M --runtime 0 --no-progress
says "mounted at $mnt"
umount "$mnt"
[ "$(dd if="$loop" bs=1 skip=1080 count=2 status=none | od -An -tx1 | tr -d ' ')" = 53ef ] ||
	fail "the ext4 superblock is gone"
