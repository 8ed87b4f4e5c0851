#!/usr/bin/env bash
# Recovery with engine "auto" on a block device without NOWAIT (zram): the header scan of
# 64 KiB slots (one 4 KiB read per slot, at depth) goes through aio, and says why; 4 KiB slots
# (runs of headers, one request at a time) through sync. A zram device of its own, removed on
# every exit path.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

need_root
need_tool jq
trap 'zram_release' EXIT
trap 'exit 1' INT TERM HUP
zram_acquire 64M

for slot in 64k 4k; do
	"$RAWIO" store format "$ZRAM_DEV" --force --slot-size $slot >/dev/null
	# a 4 KiB slot is all header: its object is empty
	if [ $slot = 64k ]; then n=3000; else n=0; fi
	head -c $n /dev/urandom | "$RAWIO" store put "$ZRAM_DEV" obj - --durable
	j=$("$RAWIO" store recover "$ZRAM_DEV" --json) || fail "recover, $slot slots"
	case $slot in
	64k) want=aio why=NOWAIT ;;
	4k) want=sync why="depth 1" ;;
	esac
	jcheck "$j" ".engine == \"auto:$want\" and .entries == 1 and .validated == 1" \
		"$slot slots: headers read with $want"
	jcheck "$j" ".engine_auto_why | contains(\"$why\")" "$slot slots: the reason names $why"
done
