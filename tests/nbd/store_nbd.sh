#!/usr/bin/env bash
# The slot store on an NBD export (nbdkit file plugin): format, put, the server restarted,
# recover (checkpoint and scan), get, check; and the engine choice on an NBD URI.
set -euo pipefail
source "$RAWIO_TESTS/lib.sh"
source "$RAWIO_TESTS/nbd/lib.sh"
out=$dir/out

truncate -s 64M "$dir/vol.img"
nbd_start srv file "$dir/vol.img"

status 0 "$RAWIO" store format "$uri" --slot-size 16k --slots 2048
head -c 9000 /dev/urandom >"$dir/obj1"
status 0 "$RAWIO" store put "$uri" one "$dir/obj1" --durable
status 0 "$RAWIO" store fill "$uri" --count 2000 --obj-size 3000
status 0 "$RAWIO" store checkpoint "$uri"
head -c 11000 /dev/urandom >"$dir/obj2"
status 0 "$RAWIO" store put "$uri" two "$dir/obj2" --durable

# The volume outlives its server: restart it, then recover from what it holds.
nbd_kill srv KILL
nbd_start srv file "$dir/vol.img"
status 0 "$RAWIO" store recover "$uri" --json
jcheck "$(cat "$out")" '.entries == 2002' "recovered every object"
status 0 "$RAWIO" store recover "$uri" --mode scan --read-only --json
jcheck "$(cat "$out")" '.entries == 2002' "a scan of the slot headers finds every object"
status 0 "$RAWIO" store recover "$uri" --qd 1 --read-only
says "engine auto: nbd"
"$RAWIO" store get "$uri" one "$dir/got1"
cmp "$dir/obj1" "$dir/got1" || fail "object one differs"
"$RAWIO" store get "$uri" two "$dir/got2"
cmp "$dir/obj2" "$dir/got2" || fail "object two (rolled forward past the checkpoint) differs"
status 0 "$RAWIO" store check "$uri"
says consistent

# Only the nbd engine drives an NBD export, and the error says so.
status 1 "$RAWIO" store recover "$uri" --engine uring --read-only
status 0 "$RAWIO" devinfo "$uri" --json
jcheck "$(cat "$out")" '.kind == "nbd" and .nbd.flush and .size == 67108864' "devinfo on the URI"
echo "PASS"
