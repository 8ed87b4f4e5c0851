#!/usr/bin/env bash
# Commands that destroy data without asking (issue 19): `rawio bench` writing
# and `rawio cache bench` refuse a device that holds a rawio store or cache or
# a filesystem signature, unless --force; a zeroed device is written as before.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-probe.XXXXXX")
trap 'rm -rf "$work"' EXIT
out="$work/out"
s="$work/s.img"
c="$work/c.img"
b="$work/b.img"
B=(bench --engine sync --bs 64k --size 4M --runtime 0 --ramp 0 --no-progress)

$RAWIO store format "$s" --size 16M --slot-size 64k
$RAWIO store put "$s" k /etc/hostname
for rw in randwrite write randrw; do
	status 2 $RAWIO "${B[@]}" --file "$s" --rw "$rw"
	says "holds a rawio store"
done
status 0 $RAWIO store check "$s"
status 0 $RAWIO "${B[@]}" --file "$s" --rw randread
status 0 $RAWIO "${B[@]}" --file "$s" --rw randwrite --force

# A filesystem signature: ext4's magic at 1080.
truncate -s 8M "$work/fs.img"
printf '\x53\xef' | dd of="$work/fs.img" bs=1 seek=1080 conv=notrunc status=none
status 2 $RAWIO "${B[@]}" --file "$work/fs.img" --rw write
says "ext2/3/4"
truncate -s 8M "$work/zero.img"
status 0 $RAWIO "${B[@]}" --file "$work/zero.img" --rw write

# cache bench formats the cache and writes both devices.
$RAWIO cache format "$c" "$b" --size 32M --backing-size 64M
status 2 $RAWIO cache bench fsync "$c" "$b" --segment-size 64k --seconds 0.1
says "holds a rawio cache"
$RAWIO store format "$work/s2.img" --size 16M --slot-size 64k
status 2 $RAWIO cache bench absorb "$work/zc.img" "$work/s2.img" --size 32M --bytes 1m
says "s2.img holds a rawio store"
status 0 $RAWIO store check "$work/s2.img"
status 0 $RAWIO cache bench fsync "$c" "$b" --segment-size 64k --seconds 0.1 --force
