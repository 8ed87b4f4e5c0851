# Shared by the frontend shell tests; source it after `set -euo pipefail`.
. "$RAWIO_TESTS/lib.sh"

need_tool nbdkit
[ -n "${RAWIO_PLUGIN:-}" ] && [ -r "$RAWIO_PLUGIN" ] || skip "RAWIO_PLUGIN is not set to the plugin"

# nbdkit_run ARGS...: nbdkit with the sanitizer runtimes a sanitized plugin needs.
nbdkit_run() {
	if [ -n "${RAWIO_NBDKIT_PRELOAD:-}" ]; then
		LD_PRELOAD=$RAWIO_NBDKIT_PRELOAD ASAN_OPTIONS=detect_leaks=0 nbdkit "$@"
	else
		nbdkit "$@"
	fi
}

# serve PARAMS... -- CMD: nbdkit on the plugin (a socket in $work), running CMD with $uri set.
serve() {
	local params=()
	while [ "$1" != "--" ]; do
		params+=("$1")
		shift
	done
	shift
	nbdkit_run --exit-with-parent -U "$(nbd_sock)" "$RAWIO_PLUGIN" "${params[@]}" --run "$*"
}

# nbd_sock: a fresh socket path in the test's scratch directory. Not `-U -`: nbdkit 1.32
# makes that socket's directory in /tmp and leaves it there when it exits on a refused
# parameter or is killed.
nbd_sock() {
	mktemp -u "$work/nbd.XXXXXX"
}

# fresh_cache DIR CACHE_SIZE BACKING_SIZE: format DIR/cache.img over DIR/backing.img.
fresh_cache() {
	rm -f "$1/cache.img" "$1/backing.img"
	"$RAWIO" cache format "$1/cache.img" "$1/backing.img" --size "$2" --backing-size "$3" \
		--segment-size 256k >/dev/null
}

# attach ARGS...: start `rawio export --attach ARGS` in the background, its output in
# $work/export.out and .err; wait for its device. Sets pid and dev.
attach() {
	: >"$work/export.out"
	"$RAWIO" export --attach "$@" >"$work/export.out" 2>"$work/export.err" &
	pid=$!
	for _ in $(seq 300); do
		grep -q '^device: ' "$work/export.out" && break
		kill -0 "$pid" 2>/dev/null || { cat "$work/export.err" >&2; fail "rawio export died"; }
		sleep 0.1
	done
	dev=$(awk '/^device: /{print $2}' "$work/export.out")
	[ -n "$dev" ] || { cat "$work/export.err" >&2; fail "no device from rawio export"; }
	echo "ok: rawio export --attach $* -> $dev"
}

# fs_setup FS NAME TOOLS...: a filesystem test over `rawio export --attach`: root, FUSE,
# mkfs.FS, its checker and TOOLS, or skip; a work dir with a mount point in $work and $mnt;
# on every exit the mount goes and the export ($pid, when set) is stopped.
fs_setup() {
	fs=$1
	need_root
	need_tool nbdfuse losetup mount umount "mkfs.$fs" "${@:3}"
	[ -c /dev/fuse ] || skip "needs FUSE (/dev/fuse)"
	case $fs in
	ext4) need_tool e2fsck ;;
	xfs) need_tool xfs_repair ;;
	esac
	work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-$2.XXXXXX")
	mnt="$work/mnt"
	mkdir "$mnt"
	pid=""
	trap fs_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}

fs_cleanup() {
	set +e
	mountpoint -q "$mnt" && umount "$mnt"
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid"
	fi
	rm -rf "$work"
}

# fs_mkfs: a new $fs on $dev.
fs_mkfs() {
	case $fs in
	ext4) mkfs.ext4 -q "$dev" ;;
	xfs) mkfs.xfs -q -f "$dev" ;;
	esac
}

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
