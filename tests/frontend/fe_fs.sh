#!/usr/bin/env bash
# A filesystem on the cache through `rawio export --attach` (nbdfuse + loop):
# mkfs, mount, copy a directory tree in, syncfs, umount, fsck clean, remount,
# diff equal; then stop the export (SIGTERM), export again (SIGINT this time)
# and find the same tree. Last, nbdkit is SIGKILLed under an attached export:
# rawio export must notice, tear down the loop device and FUSE mount, and fail.
# usage: fe_fs.sh ext4|xfs
set -euo pipefail
. "$(dirname "$0")/lib.sh"

fs=${1:-ext4}
need_root
need_tool nbdfuse losetup mount umount diff "mkfs.$fs"
[ -c /dev/fuse ] || skip "needs FUSE (/dev/fuse)"
case $fs in
ext4) need_tool e2fsck ;;
xfs) need_tool xfs_repair ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-fe-fs.XXXXXX")
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

# detach SIG: stop rawio export with SIG; it must exit 0 and leave nothing behind.
detach() {
	local rc=0 tmp
	tmp=$(awk '/^uri: /{print $2}' "$work/export.out" | sed 's/.*socket=//; s#/nbd.sock##')
	kill -"$1" "$pid"
	wait "$pid" || rc=$?
	pid=""
	[ "$rc" -eq 0 ] || { cat "$work/export.err" >&2; fail "rawio export exited $rc on SIG$1"; }
	ours_attached "$tmp" && fail "$dev still attached after SIG$1"
	[ ! -e "$tmp" ] || fail "$tmp left behind"
	echo "ok: SIG$1: rawio export exited 0, $dev detached, $tmp removed"
}

# ours_attached DIR: $dev is (still) a loop device over a file under DIR. Other tests
# may attach the same /dev/loopN as soon as it is free, so the name alone says nothing.
ours_attached() {
	losetup -n -O BACK-FILE "$dev" 2>/dev/null | grep -qF "$1"
}

fsck_clean() {
	case $fs in
	ext4) e2fsck -fn "$dev" >"$work/fsck.out" 2>&1 ;;
	xfs) xfs_repair -n "$dev" >"$work/fsck.out" 2>&1 ;;
	esac || { cat "$work/fsck.out" >&2; fail "$fs on $dev is not clean"; }
	echo "ok: $fs fsck clean"
}

tree="$RAWIO_TESTS/../src"
fresh_cache "$work" 96M 512M
attach "$work/cache.img" "$work/backing.img" --ctl-socket "$work/ctl"
case $fs in
ext4) mkfs.ext4 -q "$dev" ;;
xfs) mkfs.xfs -q -f "$dev" ;;
esac
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
