#!/usr/bin/env bash
# Ownership: a cache served by the plugin (which opens its devices without a
# lock: rawio_cache_open takes them) and a plain dev= export refuse a second
# writer. `rawio cache drain` beside the running export fails with EBUSY
# naming nbdkit's pid; once the export has stopped, the same drain works.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-fe-lock.XXXXXX")
srv=
stop() {
	[ -n "$srv" ] || return 0
	kill "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
	srv=
}
trap 'stop; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP

# start PARAMS...: the plugin in the background on $work/s.sock; sets srv.
start() {
	rm -f "$work/s.sock" "$work/s.pid"
	nbdkit_run -f -U "$work/s.sock" -P "$work/s.pid" --exit-with-parent "$RAWIO_PLUGIN" "$@" \
		2>"$work/nbdkit.err" &
	srv=$!
	for _ in $(seq 300); do
		[ -s "$work/s.pid" ] && return 0
		kill -0 "$srv" 2>/dev/null || { cat "$work/nbdkit.err" >&2; fail "nbdkit died"; }
		sleep 0.1
	done
	fail "nbdkit did not start"
}

fresh_cache "$work" 16M 32M
start "cache=$work/cache.img" "backing=$work/backing.img"
pid=$(cat "$work/s.pid")
if "$RAWIO" cache drain "$work/cache.img" "$work/backing.img" --lock-wait 200 \
	>"$work/drain.out" 2>"$work/drain.err"; then
	fail "cache drain beside a running export succeeded"
fi
grep -q "in use by another process (pid $pid)" "$work/drain.err" ||
	{ cat "$work/drain.err" >&2; fail "the refusal does not name nbdkit's pid $pid"; }
echo "ok: drain beside the export: $(head -1 "$work/drain.err")"
stop
"$RAWIO" cache drain "$work/cache.img" "$work/backing.img" --lock-wait 200 >"$work/drain.out" ||
	fail "cache drain after the export stopped failed"
echo "ok: drain after the export stopped: $(cat "$work/drain.out")"

# A plain device served read-write is owned too.
truncate -s 16M "$work/file.img"
start "dev=$work/file.img"
pid=$(cat "$work/s.pid")
if "$RAWIO" cache format "$work/file.img" "$work/backing.img" --force --lock-wait 200 \
	>/dev/null 2>"$work/fmt.err"; then
	fail "cache format over a device being exported succeeded"
fi
grep -q "(pid $pid)" "$work/fmt.err" || { cat "$work/fmt.err" >&2; fail "no pid in the refusal"; }
echo "ok: format over an exported dev=: $(head -1 "$work/fmt.err")"
stop
