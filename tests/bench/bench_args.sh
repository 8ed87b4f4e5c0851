#!/usr/bin/env bash
# rawio bench's argument errors: a clear message and a non-zero exit, before any I/O.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

B=("$RAWIO" bench --no-progress --runtime 100ms --ramp 0)

# Usage errors (exit 2).
status 2 "${B[@]}" --engine mem --bogus
status 2 "${B[@]}" --engine mem --rw sideways
says "unknown pattern 'sideways'"
status 2 "${B[@]}" --engine mem --bs 4x
says "bs: '4x' is not a size"
status 2 "${B[@]}" --engine mem --bs 0
status 2 "${B[@]}" --engine mem --qd 0
status 2 "${B[@]}" --engine mem --runtime soon
says "not a time"
status 2 "${B[@]}" --engine mem --rwmixread 101
status 2 "${B[@]}" --engine sync --null
says "null needs --engine mem"
status 2 "${B[@]}" --engine mem --uring regbufs
says "uring needs --engine uring"
status 2 "${B[@]}" --engine uring --uring turbo
says "unknown flag 'turbo'"
status 2 "${B[@]}" --engine mem --wait nap
says "wait: unknown mode 'nap'"
status 2 "${B[@]}" --engine mem --wait spin --poll linux
says "poll needs --wait hybrid"
status 2 "${B[@]}" --engine mem --wait hybrid --poll sometimes
says "poll: bad predictor 'sometimes'"
status 2 "${B[@]}" --engine mem stray
status 0 "$RAWIO" bench --help
says "usage: rawio bench"

# An unknown engine is a usage error, named with the list (exit 2).
status 2 "${B[@]}" --engine warp --file mem:1M
says "[-]-engine: unknown engine 'warp' \(engines: auto "

# Checked by the library before any I/O (exit 1).
status 1 "${B[@]}" --engine mem --file mem:1M --bs 1000
says "block size 1000 is not a multiple of .*alignment \(512 bytes\)"
status 1 "${B[@]}" --engine mem --file mem:1M --size 2M
says "size 2097152 at offset 0 is larger than mem:1M"
status 1 "${B[@]}" --engine mem --file mem:1M --offset 1M
says "at or past the end"
status 1 "${B[@]}" --engine mem --file mem:1M --size 1k --bs 4k
says "smaller than one block"
status 1 "${B[@]}" --engine mem --file mem:1M --runtime 0 --ramp 1s
says "ramp time needs a runtime"
status 1 "${B[@]}" --engine sync --file mem:1M
says "RAM device: only the mem engine"
status 1 "${B[@]}" --engine sync
says "no target"

# A file that is missing or unreadable: nothing is created, nothing runs.
status 1 "${B[@]}" --engine sync --file "$scratch/missing.img"
says "missing.img: No such file or directory \(--create"
[ ! -e "$scratch/missing.img" ] || fail "a missing file was created"
status 1 "${B[@]}" --engine sync --file "$scratch"
says "$scratch"
truncate -s 1M "$scratch/small.img"
status 1 "${B[@]}" --engine sync --file "$scratch/small.img" --size 2M
says "larger than"
status 1 "${B[@]}" --engine mem --file "$scratch/small.img"
says "mem engine drives only RAM devices"
if [ "$(id -u)" -ne 0 ]; then
	chmod 000 "$scratch/small.img"
	status 1 "${B[@]}" --engine sync --file "$scratch/small.img"
	says "Permission denied"
fi
status 1 "${B[@]}" --engine mem --file mem:1M --lat-log "$scratch/no/such/dir/log"
says "no/such/dir/log: No such file or directory"
echo "PASS"
