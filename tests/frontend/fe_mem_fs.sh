#!/usr/bin/env bash
# A filesystem on a RAM device through `rawio export --attach mem:...` (nbdkit +
# the plugin's mem engine, nbdfuse + loop): mkfs (with its discard), mount, fio
# random writes with crc32c verify on a file, umount, fsck clean, mount again and
# fio verifies the file once more; then the export stops on SIGTERM and leaves
# nothing behind (issue 18: seed 001 ran mkfs on its ramdisk).
# usage: fe_mem_fs.sh ext4|xfs
set -euo pipefail
. "$(dirname "$0")/lib.sh"

fs_setup "${1:-ext4}" fe-memfs fio

# fio_job MODE: the same job writes (and verifies) or only verifies the file.
fio_job() {
	local extra=()
	[ "$1" = verify ] && extra=(--verify_only)
	fio --name=memfs --directory="$mnt" --filename=data --rw=randwrite --bsrange=4k-64k \
		--size=24m --direct=1 --ioengine=psync --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --randseed=18 "${extra[@]}" --output="$work/fio.out" ||
		{ cat "$work/fio.out" >&2; fail "$fs: fio $1 failed"; }
	grep -q "err= 0" "$work/fio.out" || { cat "$work/fio.out" >&2; fail "$fs: fio $1: errors"; }
}

# xfs wants 300 MiB at least; the device is lazy, so only what is written takes RAM.
attach mem:320m,queues=2,depth=16 --engine mem
fs_mkfs
mount "$dev" "$mnt"
fio_job write
echo "ok: $fs on mem: randwrite 4k-64k O_DIRECT, crc32c verified"
umount "$mnt"
fsck_clean
mount "$dev" "$mnt"
fio_job verify
umount "$mnt"
echo "ok: $fs: the file verifies again after a remount"
detach TERM
