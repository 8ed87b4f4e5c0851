#!/usr/bin/env bash
# rawio fsqual on FS (xfs or btrfs) made on a loop device over a sparse file:
# every row runs with both engines, with a GOOD or BAD verdict, in text and
# in JSON. The loop device and the mount go away on every exit path.
# usage: fsqual_loop.sh FS
set -euo pipefail
. "$(dirname "$0")/lib.sh"

fs=${1:?usage: fsqual_loop.sh xfs|btrfs}
need_root
need_tool losetup mount umount truncate "mkfs.$fs"

work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-fsqual-$fs.XXXXXX")
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

# 512 MiB: xfs wants 300 MiB; the runs write a few MiB.
truncate -s 512M "$work/img"
loop=$(losetup -f --show "$work/img") || skip "cannot attach a loop device"
"mkfs.$fs" -q -f "$loop" >/dev/null 2>&1 || skip "mkfs.$fs failed on $loop"
mkdir "$work/mnt"
mount -t "$fs" "$loop" "$work/mnt" 2>/dev/null || skip "cannot mount $fs here"
mnt="$work/mnt"
fsqual_run_dir "$mnt" "$fs"
echo "PASS"
