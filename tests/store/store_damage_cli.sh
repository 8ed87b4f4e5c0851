#!/usr/bin/env bash
# rawio store from the command line, on damage and at its limits:
# format says what it made (size, slots, RAM for the index); fill on a full
# store says how many puts landed; get of a damaged object says "damaged" with
# the key's slot and offset (not "no such key"); a damaged slot header is
# reported by key by check (what recovery would do), by recover (what it did)
# and by any other command that recovers it; check is clean of it afterwards;
# open and check show progress on a terminal only.
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
scratch store-dmg
img="$work/s.img"

status 0 "$RAWIO" store format "$img" --size 8M --slot-size 64k
says "s.img: a store of 8.0 MiB \(8388608 bytes\), 112 slots of 64.0 KiB .* needs [0-9.]+ [KMG]?i?B of RAM"

status 1 "$RAWIO" store fill "$img" --count 1000 --obj-size 1000 --fill-threads 1
says "full .* after 112 of 1000 puts landed"
[ "$("$RAWIO" store ls "$img" | wc -l)" -eq 112 ] || fail "fill said 112 landed"

# slot_off KEY: byte offset of KEY's slot.
slot_off() {
	local slot data
	slot=$("$RAWIO" store ls "$img" --json | jq -r --arg k "$1" '.[] | select(.key == $k) | .slot')
	data=$("$RAWIO" store stat "$img" --json | jq .data_off)
	echo $((data + slot * 65536))
}
flip() { # flip OFFSET: xor one byte with 0x10
	local b
	b=$(od -An -tu1 -j "$1" -N1 "$img" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 16)))" | dd of="$img" bs=1 seek="$1" conv=notrunc status=none
}

status 0 "$RAWIO" store format "$img" --force --slot-size 64k
head -c 5000 /dev/urandom >"$work/blob"
for k in victim hdr other; do status 0 "$RAWIO" store put "$img" $k "$work/blob" --durable; done
voff=$(slot_off victim)
hoff=$(slot_off hdr)
flip $((voff + 4096 + 100))
flip $((hoff + 80))

status 1 "$RAWIO" store get "$img" victim "$work/got"
says "get victim: the object is damaged: slot [0-9]+ at offset $voff fails its crc32c"
status 1 "$RAWIO" store check "$img"
says "key hdr.*recovery drops it from the index"
says "key victim\): payload fails its crc32c"
says "PROBLEMS FOUND"

# A command that recovers read-write reports what it zeroed.
status 0 "$RAWIO" store put "$img" more "$work/blob"
says "recovery: slot [0-9]+ at offset $hoff \(key hdr, generation [0-9]+\): .*dropped from the index"
status 1 "$RAWIO" store check "$img"
if grep -q "key hdr" "$out"; then fail "hdr still reported after a read-write recovery"; fi
says "key victim"
status 0 "$RAWIO" store rm "$img" victim
status 0 "$RAWIO" store check "$img"
says "consistent"

# recover prints its findings on stdout.
flip $(($(slot_off other) + 80))
status 0 "$RAWIO" store recover "$img"
says "^  slot [0-9]+ at offset [0-9]+ \(key other, .*dropped from the index"

# Progress on a terminal only.
if command -v script >/dev/null; then
	script -qec "'$RAWIO' store check '$img'" /dev/null >"$out" 2>&1 || true
	says "recovering: [0-9]+ / [0-9]+ slot headers"
	says "checking: [0-9]+ / [0-9]+ payloads"
fi
status 0 "$RAWIO" store check "$img"
if grep -q "recovering:" "$out"; then fail "progress printed to a non-terminal"; fi
echo PASS
