#!/usr/bin/env bash
# Commands that destroy data without asking (issue 19): `store get S KEY S`
# (or a link to S) would write the object over the store; it is refused and
# the store still checks clean with its object.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-store-self.XXXXXX")
trap 'rm -rf "$work"' EXIT
img="$work/s.img"
out="$work/out"

$RAWIO store format "$img" --size 16M --slot-size 64k
echo "precious" >"$work/obj"
$RAWIO store put "$img" k "$work/obj"
size=$(stat -c %s "$img")
status 2 $RAWIO store get "$img" k "$img"
says "store itself"
ln -s "$img" "$work/sym.img"
status 2 $RAWIO store get "$img" k "$work/sym.img"
ln "$img" "$work/hard.img"
status 2 $RAWIO store get "$img" k "$work/hard.img"
[ "$(stat -c %s "$img")" -eq "$size" ] || fail "the store changed size"
status 0 $RAWIO store check "$img"
$RAWIO store get "$img" k "$work/copy"
cmp "$work/obj" "$work/copy" || fail "object differs"
