#!/usr/bin/env bash
# A power cut under a filesystem: ext4 on a cache (through rawio export
# --attach) whose cache device sits on the fault engine's volatile write cache
# (plugin parameter cache-fault=SEED:N). A workload copies files in and fsyncs
# each, logging the fsyncs that returned; the plug is pulled at the cache
# device's Nth flush (N and what the cut keeps, loses or tears drawn from the
# seed). Then the export is served again (cache recovery), mounted (journal
# replay), unmounted: e2fsck -fn must be clean, and every file whose fsync
# returned must read back intact.
# usage: fe_powercut.sh SEED...   (a failure prints the command that replays it)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_root
need_tool nbdfuse losetup mount umount mkfs.ext4 e2fsck cmp
[ -c /dev/fuse ] || skip "needs FUSE (/dev/fuse)"
[ $# -gt 0 ] || set -- 1 2 3

work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-fe-powercut.XXXXXX")
mnt="$work/mnt"
mkdir "$mnt" "$work/src"
pid=""
seed=""
cleanup() {
	local rc=$?
	fs_cleanup
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$seed" ]; then
		echo "replay: RAWIO=$RAWIO RAWIO_TESTS=$RAWIO_TESTS RAWIO_PLUGIN=$RAWIO_PLUGIN" \
			"bash $0 $seed" >&2
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# detach: stop rawio export (SIGTERM); its exit status is returned, not judged.
detach() {
	local rc=0
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	pid=""
	return $rc
}

# The files the workload writes: 1 KiB .. 192 KiB of random bytes each.
for i in $(seq 100); do
	head -c $(((i * 7919) % 196608 + 1024)) /dev/urandom >"$work/src/f$i"
done

run_seed() {
	seed=$1
	local n=$((seed * 2654435761 % 160 + 4)) i synced=0 rc
	fresh_cache "$work" 64M 256M
	attach "$work/cache.img" "$work/backing.img"
	mkfs.ext4 -q "$dev"
	detach || fail "seed $seed: rawio export failed after mkfs"

	# The workload, until the cut makes writes fail.
	attach "$work/cache.img" "$work/backing.img" --set "cache-fault=$seed:$n"
	: >"$work/synced"
	if mount "$dev" "$mnt" 2>/dev/null; then
		for i in $(seq 100); do
			cp "$work/src/f$i" "$mnt/f$i" 2>/dev/null || break
			sync "$mnt/f$i" 2>/dev/null || break
			echo "$i" >>"$work/synced"
		done
		umount "$mnt" 2>/dev/null || umount -l "$mnt"
	fi
	synced=$(wc -l <"$work/synced")
	rc=0
	detach || rc=$?
	grep -q "cache-fault=$seed:$n: power cut" "$work/export.err" ||
		{ cat "$work/export.err" >&2; fail "seed $seed: the plug was never pulled"; }

	# Recovery, journal replay, fsck, and the files whose fsync returned.
	attach "$work/cache.img" "$work/backing.img"
	mount "$dev" "$mnt" || fail "seed $seed: mount after the power cut failed"
	umount "$mnt"
	e2fsck -fn "$dev" >"$work/fsck.out" 2>&1 ||
		{ cat "$work/fsck.out" >&2; fail "seed $seed: e2fsck -fn not clean after the cut"; }
	mount "$dev" "$mnt"
	while read -r i; do
		cmp -s "$work/src/f$i" "$mnt/f$i" ||
			fail "seed $seed: f$i was fsynced before the cut but does not read back"
	done <"$work/synced"
	umount "$mnt"
	detach || fail "seed $seed: rawio export failed after recovery"
	echo "ok: seed $seed: cut at cache flush $n after $synced fsynced files" \
		"(export exited $rc); fsck clean, every fsynced file intact"
}

for s in "$@"; do
	run_seed "$s"
done
