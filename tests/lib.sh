# Shared by every shell test; source it after `set -euo pipefail`.
# Exit codes: 0 pass, 1 fail, 77 skip. status and says use $out (set it first).

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# scratch NAME: a scratch directory $work (with $out for status and says in it), removed on
# every exit; a test with more to clean up sets its own EXIT trap after this.
scratch() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-$1.XXXXXX")
	out="$work/out"
	trap 'rm -rf "$work"' EXIT
	trap 'exit 1' INT TERM HUP
}

# io_props FILE MOUNTPOINT READ_IOPS READ_BW WRITE_IOPS WRITE_BW: a disk model in Seastar's
# io_properties.yaml format, for --io-properties / io-properties=.
io_props() {
	printf 'disks:\n  - mountpoint: %s\n    read_iops: %s\n    read_bandwidth: %s\n    write_iops: %s\n    write_bandwidth: %s\n' \
		"$2" "$3" "$4" "$5" "$6" >"$1"
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

need_tool() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "needs $t"
	done
}

[ -n "${RAWIO:-}" ] && [ -x "$RAWIO" ] || fail "RAWIO is not set to the rawio binary"

# status EXPECTED CMD...: run CMD, stdout+stderr into $out, check its exit code.
status() {
	local want=$1 rc=0
	shift
	"$@" >"$out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || { cat "$out" >&2; fail "$* exited $rc, expected $want"; }
	echo "ok: $* -> $rc"
}

# says PATTERN: the last command's output matches PATTERN (grep -E).
says() {
	grep -qE "$1" "$out" || { cat "$out" >&2; fail "output does not say '$1'"; }
}

# jcheck JSON EXPR MSG: jq -e EXPR holds for JSON.
jcheck() {
	jq -e "$2" <<<"$1" >/dev/null || { echo "$1" >&2; fail "$3 ($2)"; }
	echo "ok: $3"
}

# zram_acquire SIZE: a zram device of our own (hot_add), sized SIZE (e.g. 64M); sets
# ZRAM_NAME (zramN) and ZRAM_DEV (/dev/zramN). Skips where there is no zram. Call
# zram_release from the script's EXIT trap: it removes only the device made here.
ZRAM_N=""
zram_acquire() {
	if [ ! -w /sys/class/zram-control/hot_add ]; then
		modprobe zram 2>/dev/null || true
		[ -w /sys/class/zram-control/hot_add ] || skip "no zram (/sys/class/zram-control)"
	fi
	ZRAM_N=$(cat /sys/class/zram-control/hot_add) || skip "cannot add a zram device"
	ZRAM_NAME=zram$ZRAM_N
	ZRAM_DEV=/dev/$ZRAM_NAME
	echo "$1" >"/sys/block/$ZRAM_NAME/disksize" || skip "cannot size $ZRAM_NAME"
}

# zram_release: remove the device zram_acquire made, if any.
zram_release() {
	if [ -n "$ZRAM_N" ]; then
		echo "$ZRAM_N" >/sys/class/zram-control/hot_remove || true
		ZRAM_N=""
	fi
}
