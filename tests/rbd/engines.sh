#!/usr/bin/env bash
# Which engine drives an rbd: path: a descriptor engine asked for by name is refused with a
# message naming the path and the engine (never swapped for rbd behind the caller's back);
# auto and the layers' defaults pick rbd.
set -euo pipefail
source "$RAWIO_TESTS/lib.sh"
source "$RAWIO_TESTS/rbd/lib.sh"
rbd_image engines 16M
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for e in sync threads aio uring; do
	status 1 "$RAWIO" bench --engine "$e" --file "$path" --rw randwrite --runtime 0 --size 1M
	says "rbd:rbd/engines.*Ceph RBD image.*only the rbd engine.*not $e"
done
status 0 "$RAWIO" bench --engine auto --file "$path" --rw randwrite --runtime 0 --size 1M
says "rbd"
# librbd completes one request at a time: bench reaps from 1 on by default (not qd/8).
j=$("$RAWIO" bench --engine rbd --file "$path" --rw randread --runtime 0 --size 1M --qd 32 \
	--json --no-progress)
jcheck "$j" '.engine == "rbd" and .qd == 32 and .complete_min == 1' "rbd: complete_min 1"
# The store picks its engine itself (rawio_engine_default): rbd.
status 0 "$RAWIO" store format --force "$path"
status 0 "$RAWIO" store check "$path"
