#!/usr/bin/env bash
# rawio cache from the command line, on files: format (and its guard), stat,
# check, a short fsync benchmark that leaves dirty data, serve with the
# control socket (set, get, stat, errors, SIGTERM), drain.
set -euo pipefail

: "${RAWIO:?RAWIO must name the rawio binary}"
dir=$(mktemp -d "${TMPDIR:-.}/cache-cli.XXXXXX")
server=""
cleanup() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

c=$dir/cache.img
b=$dir/backing.img
sock=$dir/ctl.sock

"$RAWIO" cache format "$c" "$b" --size 12m --backing-size 8m --segment-size 64k ||
	fail "format"
if "$RAWIO" cache format "$c" "$b" 2>"$dir/err"; then fail "format over a cache without --force"; fi
grep -q -- "--force" "$dir/err" || fail "the refusal names --force: $(cat "$dir/err")"

"$RAWIO" cache stat "$c" "$b" >"$dir/stat" || fail "stat"
grep -q "segments: *176 of 64.0 KiB (15 data blocks each)" "$dir/stat" || fail "stat: $(cat "$dir/stat")"
"$RAWIO" cache stat "$c" "$b" --json >"$dir/stat.json" || fail "stat --json"
grep -q '"nr_segments":[[:space:]]*176' "$dir/stat.json" || fail "stat --json: $(cat "$dir/stat.json")"
"$RAWIO" cache check "$c" "$b" | grep -q "consistent" || fail "check a new cache"

# Dirty data: write + flush for a moment, nothing written back (bench turns migration off).
"$RAWIO" cache bench fsync "$c" "$b" --segment-size 64k --writers 2 --seconds 0.3 --force >"$dir/bench" ||
	fail "bench fsync"
grep -q "write+flush/s" "$dir/bench" || fail "bench output: $(cat "$dir/bench")"
"$RAWIO" cache stat "$c" "$b" --json >"$dir/stat.json"
dirty=$(sed -n 's/.*"dirty_blocks":[[:space:]]*\([0-9]*\).*/\1/p' "$dir/stat.json")
[ "${dirty:-0}" -gt 0 ] || fail "dirty blocks after the benchmark: ${dirty:-none}"
"$RAWIO" cache check "$c" "$b" >"$dir/check" || fail "check: $(cat "$dir/check")"

# Serve it; tune it from here.
"$RAWIO" cache serve "$c" "$b" --socket "$sock" --batch 4 2>"$dir/serve.err" &
server=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || fail "no socket: $(cat "$dir/serve.err")"
"$RAWIO" cache get "$sock" nr_batched_migration | grep -qx "nr_batched_migration 4" ||
	fail "get: the open-time --batch"
"$RAWIO" cache set "$sock" nr_batched_migration 32 | grep -qx "ok nr_batched_migration 32" ||
	fail "set"
"$RAWIO" cache get "$sock" | grep -qx "nr_batched_migration 32" || fail "get all"
if "$RAWIO" cache set "$sock" nr_batched_migration 0 >"$dir/out" 2>&1; then
	fail "set out of range"
fi
grep -q "'0' is not a value from 1 to 256" "$dir/out" || fail "range error: $(cat "$dir/out")"
if "$RAWIO" cache set "$sock" nope 1 >/dev/null 2>&1; then fail "set an unknown tunable"; fi
# low_watermark <= high_watermark: both 0 (low first) and the server writes everything back.
"$RAWIO" cache set "$sock" low_watermark 0 >/dev/null || fail "set low_watermark"
"$RAWIO" cache set "$sock" high_watermark 0 >/dev/null || fail "set high_watermark"
for _ in $(seq 200); do
	d=$("$RAWIO" cache stat --socket "$sock" | sed -n 's/^dirty_segments //p')
	[ "$d" = 0 ] && break
	sleep 0.05
done
[ "$d" = 0 ] || fail "the served cache did not write back: $d dirty segments"
kill -TERM "$server"
wait "$server" || fail "serve exit status"
server=""
[ -e "$sock" ] && fail "socket left behind"
if "$RAWIO" cache get "$sock" 2>"$dir/err"; then fail "get without a server"; fi
grep -q "no cache is served" "$dir/err" || fail "message: $(cat "$dir/err")"

"$RAWIO" cache drain "$c" "$b" | grep -q "drained 0 dirty blocks" || fail "drain of a clean cache"
"$RAWIO" cache check "$c" "$b" | grep -q "consistent" || fail "check at the end"
echo "cache cli: ok"
