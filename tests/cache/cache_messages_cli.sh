#!/usr/bin/env bash
# rawio cache's messages (issue 19): set names the value and the tunable's range (a negative
# value is a value, not an option) and exits 2; low_watermark never goes above
# high_watermark (both 0 writes back at once); check --json is JSON; format says what it made.
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
need_tool jq
work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-cache-msg.XXXXXX")
out="$work/out"
server=""
cleanup() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
c=$work/c.img
b=$work/b.img
sock=$work/ctl.sock

# format: what was made, and what opening it will take.
status 0 "$RAWIO" cache format "$c" "$b" --size 12m --backing-size 8m --segment-size 64k
says "^made a cache on .*c\.img \(12\.0 MiB\): 176 segments of 64\.0 KiB"
says "caching .*b\.img \(8\.0 MiB\)"
says "opening it needs about [0-9.]+ [KM]iB of RAM"

# check --json: one object that jq parses, the same verdict as the text.
status 0 "$RAWIO" cache check "$c" "$b" --json
jq -e '.consistent == true and .problems == 0 and (.findings | length) >= 1 and
	.cache == "'"$c"'"' "$out" >/dev/null || fail "check --json: $(cat "$out")"
echo "ok: check --json"

"$RAWIO" cache serve "$c" "$b" --socket "$sock" 2>"$work/serve.err" &
server=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || fail "no socket: $(cat "$work/serve.err")"

for v in -1 0 257 1x ""; do
	status 2 "$RAWIO" cache set "$sock" nr_batched_migration "$v"
	says "rawio cache: set: nr_batched_migration: '$v' is not a value from 1 to 256"
	grep -qE "invalid option|^usage" "$out" && fail "'$v' taken for an option"
done
status 2 "$RAWIO" cache set "$sock" nope 1
says "no tunable 'nope' \(tunables: allow_migrate nr_batched_migration"
status 2 "$RAWIO" cache get "$sock" nope
says "no tunable 'nope'"

# The watermarks bound a band: a set that crosses them is refused and changes nothing.
status 2 "$RAWIO" cache set "$sock" low_watermark 90
says "low_watermark 90 would put low_watermark above high_watermark"
status 2 "$RAWIO" cache set "$sock" high_watermark 5
says "high_watermark 5 would put low_watermark above high_watermark"
status 0 "$RAWIO" cache get "$sock"
says "^low_watermark 10$"
says "^high_watermark 50$"
status 0 "$RAWIO" cache set "$sock" low_watermark 0
status 0 "$RAWIO" cache set "$sock" high_watermark 0
says "^ok high_watermark 0$"
kill -TERM "$server"
wait "$server" || fail "serve exit status"
server=""
echo PASS
