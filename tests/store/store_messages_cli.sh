#!/usr/bin/env bash
# rawio store check on junk says what is wrong (no superblock magic at offset
# 0 or 4096), not only "corrupt structure"; an unknown --engine is a usage
# error (exit 2) that lists the engines.
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
scratch store-msg

head -c 1048576 /dev/urandom >"$work/junk.img"
status 1 "$RAWIO" store check "$work/junk.img"
says "junk.img: not a rawio store \(no superblock magic 'RAWIOSTR' at offset 0 or 4096\)"

truncate -s 1M "$work/zero.img"
status 1 "$RAWIO" store check "$work/zero.img"
says "zero.img: not a rawio store \(offsets 0 and 4096 are zero; format it first\)"

status 0 "$RAWIO" store format "$work/s.img" --size 8M --slot-size 64k
status 2 "$RAWIO" store ls "$work/s.img" --engine foo
says "engine: unknown engine 'foo' \(engines: auto sync threads"
echo PASS
