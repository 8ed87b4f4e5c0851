#!/usr/bin/env bash
# The plugin's per-thread engine contexts and bounce buffers (issue 14): threads
# started and joined round after round, as nbdkit starts and joins a
# connection's workers, each doing I/O through its own context; every block
# read checks that it holds what was written where (plugin_calls' fill
# pattern), and the plugin's cleanup and unload run at the end (under ASan a
# context or buffer left behind is a leak).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -n "${PLUGIN_CALLS:-}" ] && [ -x "$PLUGIN_CALLS" ] || skip "PLUGIN_CALLS is not set"
scratch fe-threads
truncate -s 4M "$work/f.img"

# run THREADSxROUNDS MODE BS PARAMS...: plugin_calls, 50 ms a round.
run() {
	local spec=$1 mode=$2 bs=$3
	shift 3
	"$PLUGIN_CALLS" "$RAWIO_PLUGIN" "$spec" 0.05 "$mode" \
		"$bs" "$@" >"$out" 2>&1 || { cat "$out" >&2; fail "$mode $bs $*"; }
	echo "ok: $(cat "$out")"
}

# O_DIRECT from nbdkit-like 16-byte-aligned buffers: every request bounces.
run 8x10 fillwrite 4096 "dev=$work/f.img"
run 8x10 fillread 4096 "dev=$work/f.img"
# Unaligned: read-modify-write of the edge blocks, through the same contexts.
run 4x5 fillwrite 1000 "dev=$work/f.img"
run 4x5 fillread 1000 "dev=$work/f.img"
# Through the page cache (no bounce), and a RAM device through its engine.
run 8x10 fillread 4096 "dev=$work/f.img" buffered=true
run 8x10 fillwrite 4096 dev=mem:4M engine=mem
