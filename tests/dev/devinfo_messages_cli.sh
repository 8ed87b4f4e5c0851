#!/usr/bin/env bash
# rawio devinfo says what a file allows (writable), not only that its own open
# was read-only; a RAM device too large to allocate is named as such, without
# the 512-multiple hint meant for malformed sizes.
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
scratch devinfo-msg

truncate -s 1M "$work/f.img"
status 0 "$RAWIO" devinfo "$work/f.img"
says "^writable: +yes"
says "^opened_read_only: +yes \(devinfo only reads\)"
grep -q "^read_only:" "$out" && fail "read_only: describes devinfo's own open"
status 0 "$RAWIO" devinfo --json "$work/f.img"
jcheck "$(cat "$out")" '.writable == true' "json writable"
status 0 "$RAWIO" devinfo mem:1M
says "^writable: +-"

status 1 "$RAWIO" devinfo mem:100P
says "mem:100P: cannot allocate a RAM device that large"
grep -q "multiple of 512" "$out" && fail "ENOMEM blamed on the size's alignment"
echo PASS
