#!/usr/bin/env bash
# A filesystem on the cache through `rawio export --attach` (nbdfuse + loop):
# mkfs, mount, copy a directory tree in, syncfs, umount, fsck clean, remount,
# diff equal; then stop the export (SIGTERM), export again (SIGINT this time)
# and find the same tree. Last, nbdkit is SIGKILLed under an attached export:
# rawio export must notice, tear down the loop device and FUSE mount, and fail.
# usage: fe_fs.sh ext4|xfs
set -euo pipefail
. "$(dirname "$0")/lib.sh"

fs_setup "${1:-ext4}" fe-fs diff

tree="$RAWIO_TESTS/../src"
fresh_cache "$work" 96M 512M
attach "$work/cache.img" "$work/backing.img" --ctl-socket "$work/ctl"
fs_mkfs
mount "$dev" "$mnt"
cp -a "$tree" "$mnt/tree"
sync -f "$mnt/tree"
umount "$mnt"
fsck_clean
mount "$dev" "$mnt"
diff -r "$tree" "$mnt/tree" || fail "the tree differs after a remount"
echo "ok: $fs: tree copied, fsck clean, the same after a remount"
out="$work/stat.out"
status 0 "$RAWIO" cache stat --socket "$work/ctl"
says "^writes [1-9]"
umount "$mnt"
detach TERM
status 0 "$RAWIO" cache check "$work/cache.img" "$work/backing.img"
says consistent

attach "$work/cache.img" "$work/backing.img"
mount "$dev" "$mnt"
diff -r "$tree" "$mnt/tree" || fail "the tree differs after the export was stopped and restarted"
umount "$mnt"
echo "ok: $fs: the same tree after the export was stopped and served again"
detach INT

# nbdkit dies under an attached export: rawio export tears down and fails.
attach mem:64m
tmp=$(awk '/^uri: /{print $2}' "$work/export.out" | sed 's/.*socket=//; s#/nbd.sock##')
nbdkit_pid=$(pgrep -P "$pid" -x nbdkit)
kill -KILL "$nbdkit_pid"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" -ne 0 ] || fail "rawio export exited 0 after nbdkit was killed"
ours_attached "$tmp" && fail "$dev still attached after nbdkit died"
[ ! -e "$tmp" ] || fail "$tmp left behind after nbdkit died"
grep -q "nbdkit exited" "$work/export.err" || { cat "$work/export.err" >&2; fail "no word on nbdkit"; }
echo "ok: nbdkit killed: rawio export exited $rc and detached $dev"
