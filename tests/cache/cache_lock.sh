#!/usr/bin/env bash
# Several processes on one cache (issue 19): `cache drain` while `cache serve`
# has the devices is refused with EBUSY naming serve's pid; CACHE and BACKING
# that are one file are refused.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-cache-lock.XXXXXX")
serve=""
trap '[ -n "$serve" ] && kill "$serve" 2>/dev/null; rm -rf "$work"' EXIT
out="$work/out"
c="$work/c.img"
b="$work/b.img"

$RAWIO cache format "$c" "$b" --size 32M --backing-size 64M
$RAWIO cache serve "$c" "$b" --socket "$work/s.sock" --seconds 60 >"$work/serve.log" 2>&1 &
serve=$!
for _ in $(seq 200); do [ -S "$work/s.sock" ] && break; sleep 0.05; done
[ -S "$work/s.sock" ] || { cat "$work/serve.log" >&2; fail "serve did not start"; }
status 1 $RAWIO cache drain "$c" "$b" --lock-wait 200
says "in use by another process \(pid $serve\)"
status 1 $RAWIO cache check "$c" "$b" --lock-wait 200
says "pid $serve"
kill "$serve"
wait "$serve" 2>/dev/null || true
serve=""
status 0 $RAWIO cache drain "$c" "$b"

status 2 $RAWIO cache format "$c" "$c" --force
says "same device"
ln "$c" "$work/hard"
status 2 $RAWIO cache format "$c" "$work/hard" --force
says "same device"
