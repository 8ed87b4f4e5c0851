#!/usr/bin/env bash
# Recovery with engine "auto": the header scan of 64 KiB slots (one 4 KiB read per slot, at
# depth) goes through aio wherever auto's choice at that depth is io_uring and aio stays
# asynchronous, and says why: on a file that takes NOWAIT reads, and on a block device without
# NOWAIT (zram, root only); there 4 KiB slots (runs of headers, one request at a time) go
# through sync. Files in a scratch directory; a zram device of its own; both removed on exit.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

need_tool jq
scratch store-auto-scan
trap 'rm -rf "$work"; zram_release' EXIT

# recover_check DEV SLOT WANT WHY: a store of SLOT slots with one object on DEV; recovery must
# read its headers with WANT and name WHY in its reason.
recover_check() {
	local j n=0
	"$RAWIO" store format "$1" --force --slot-size "$2" >/dev/null
	# a 4 KiB slot is all header: its object is empty
	[ "$2" = 4k ] || n=3000
	head -c $n /dev/urandom | "$RAWIO" store put "$1" obj - --durable
	j=$("$RAWIO" store recover "$1" --json) || fail "recover, $2 slots on $1"
	jcheck "$j" ".engine == \"auto:$3\" and .entries == 1 and .validated == 1" \
		"$2 slots on $1: headers read with $3"
	jcheck "$j" ".engine_auto_why | contains(\"$4\")" "$2 slots on $1: the reason names $4"
}

# The file: only where auto picks io_uring at depth here (O_DIRECT with NOWAIT reads).
truncate -s 64M "$work/store.img"
depth=$("$RAWIO" devinfo "$work/store.img" --json | jq -r '.engine_auto.qd32.engine')
if [ "$depth" = uring ]; then
	recover_check "$work/store.img" 64k aio "small header reads"
else
	echo "file part skipped: auto picks $depth at depth on $work's filesystem" >&2
fi

need_root
zram_acquire 64M
recover_check "$ZRAM_DEV" 64k aio NOWAIT
recover_check "$ZRAM_DEV" 4k sync "depth 1"
