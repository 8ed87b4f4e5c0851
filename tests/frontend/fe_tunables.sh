#!/usr/bin/env bash
# Cache tunables given to the plugin go to the cache together at open, so their
# order does not matter: only the final low/high watermark pair must hold
# (low <= high). "low_watermark=60 high_watermark=80" (60 is above the default
# high 50) and "high_watermark=5 low_watermark=0" (5 is below the default low
# 10) are served; a wrong final pair fails nbdkit naming both values.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

scratch fe-tun
fresh_cache "$work" 16M 32M

# served LOW HIGH PARAMS...: the plugin starts with PARAMS and reports LOW and HIGH.
served() {
	local lo=$1 hi=$2
	shift 2
	rm -f "$work/ctl.sock"
	# No wait: the plugin binds its control socket in .get_ready, before nbdkit
	# runs the command (which may start before .after_fork opens the cache: the
	# request then waits in the backlog). The socket must be there at once
	# (test -S): a plugin that bound it in .after_fork failed this every time.
	serve "cache=$work/cache.img" "backing=$work/backing.img" "socket=$work/ctl.sock" "$@" \
		-- test -S "$work/ctl.sock" '&&' "$RAWIO" cache get "$work/ctl.sock" \
		>"$work/get.out" 2>"$work/get.err" ||
		{ cat "$work/get.err" >&2; fail "nbdkit refused $*"; }
	if ! grep -qx "low_watermark $lo" "$work/get.out" ||
		! grep -qx "high_watermark $hi" "$work/get.out"; then
		cat "$work/get.out" >&2
		fail "$*: want low $lo high $hi"
	fi
	echo "ok: $* -> low $lo high $hi"
}

served 60 80 low_watermark=60 high_watermark=80
served 60 80 high_watermark=80 low_watermark=60
served 0 5 high_watermark=5 low_watermark=0
served 10 20 high_watermark=20

if serve "cache=$work/cache.img" "backing=$work/backing.img" low_watermark=70 \
	high_watermark=60 -- true 2>"$work/bad.err"; then
	fail "nbdkit served low_watermark 70 above high_watermark 60"
fi
grep -q "low_watermark 70 is above high_watermark 60" "$work/bad.err" ||
	{ cat "$work/bad.err" >&2; fail "the refusal does not name both values"; }
echo "ok: low 70 high 60 refused: $(grep -m1 watermark "$work/bad.err")"
if serve "cache=$work/cache.img" "backing=$work/backing.img" high_watermark=5 -- true \
	2>"$work/bad.err"; then
	fail "nbdkit served high_watermark 5 below the default low_watermark 10"
fi
grep -q "low_watermark 10 is above high_watermark 5" "$work/bad.err" ||
	{ cat "$work/bad.err" >&2; fail "the refusal does not name both values"; }
echo "ok: high 5 alone refused: $(grep -m1 watermark "$work/bad.err")"
