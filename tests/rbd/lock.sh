#!/usr/bin/env bash
# Two writers on one image with the exclusive-lock feature: the first rawio process that
# opens it read-write owns it (librbd's exclusive lock, taken by hand); a second read-write
# open fails at once, naming the image and the holder; a read-only open still works; once
# the owner closes, a writer opens again.
set -euo pipefail
source "$RAWIO_TESTS/lib.sh"
source "$RAWIO_TESTS/rbd/lib.sh"
scratch rbdlock
rbd_image lock 16M
timeout 60 rbd -c "$conf" feature enable rbd/lock exclusive-lock || fail "cannot enable exclusive-lock"
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# The owner: a cache served in front of the image (holds it until SIGTERM).
status 0 "$RAWIO" cache format "$work/c1.img" "$path" --size 8M --force
"$RAWIO" cache serve "$work/c1.img" "$path" --socket "$work/sock" 2>"$work/serve.log" &
server=$!
for _ in $(seq 600); do
	[ -S "$work/sock" ] && break
	kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; fail "serve exited"; }
	sleep 0.1
done
[ -S "$work/sock" ] || fail "serve did not start within 60 s"

# A second writer is refused, with the image and the lock's holder named.
status 1 "$RAWIO" bench --engine rbd --file "$path" --rw randwrite --runtime 0 --size 1M
says "rbd:rbd/lock: in use by another writer: client\.[0-9]+ at [0-9.:/]+ holds the image's exclusive lock"
status 1 "$RAWIO" cache format "$work/c2.img" "$path" --size 8M --force
says "rbd:rbd/lock: in use by another writer"
# Readers do not lock.
status 0 "$RAWIO" devinfo "$path"
says "exclusive-lock"

# The owner closes (SIGTERM: a clean close releases the lock); a writer gets it.
kill "$server"
wait "$server" || fail "serve exited with $? on SIGTERM"
server=
status 0 "$RAWIO" bench --engine rbd --file "$path" --rw randwrite --runtime 0 --size 1M
