#!/usr/bin/env bash
# A filesystem on a RAM device through `rawio export --attach mem:...` (nbdkit +
# the plugin's mem engine, nbdfuse + loop): mkfs (with its discard), mount, fio
# random writes with crc32c verify on a file, umount, fsck clean, mount again and
# fio verifies the file once more; then the export stops on SIGTERM and leaves
# nothing behind (issue 18: seed 001 ran mkfs on its ramdisk).
# usage: fe_mem_fs.sh ext4|xfs
set -euo pipefail
. "$(dirname "$0")/lib.sh"

fs=${1:-ext4}
need_root
need_tool nbdfuse losetup mount umount fio "mkfs.$fs"
[ -c /dev/fuse ] || skip "needs FUSE (/dev/fuse)"
case $fs in
ext4) need_tool e2fsck ;;
xfs) need_tool xfs_repair ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-fe-memfs.XXXXXX")
mnt="$work/mnt"
mkdir "$mnt"
pid=""
cleanup() {
	set +e
	mountpoint -q "$mnt" && umount "$mnt"
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid"
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

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
case $fs in
ext4) mkfs.ext4 -q "$dev" ;;
xfs) mkfs.xfs -q -f "$dev" ;;
esac
mount "$dev" "$mnt"
fio_job write
echo "ok: $fs on mem: randwrite 4k-64k O_DIRECT, crc32c verified"
umount "$mnt"
case $fs in
ext4) e2fsck -fn "$dev" >"$work/fsck.out" 2>&1 ;;
xfs) xfs_repair -n "$dev" >"$work/fsck.out" 2>&1 ;;
esac || { cat "$work/fsck.out" >&2; fail "$fs on $dev is not clean"; }
mount "$dev" "$mnt"
fio_job verify
umount "$mnt"
echo "ok: $fs: fsck clean, the file verifies again after a remount"

tmp=$(awk '/^uri: /{print $2}' "$work/export.out" | sed 's/.*socket=//; s#/nbd.sock##')
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" -eq 0 ] || { cat "$work/export.err" >&2; fail "rawio export exited $rc on SIGTERM"; }
losetup -n -O BACK-FILE "$dev" 2>/dev/null | grep -qF "$tmp" && fail "$dev still attached"
[ ! -e "$tmp" ] || fail "$tmp left behind"
echo "ok: export stopped, $dev detached"
