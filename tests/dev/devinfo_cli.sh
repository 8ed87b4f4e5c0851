#!/usr/bin/env bash
# rawio devinfo's command line: exit codes, messages, both output forms.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$(mktemp)
cleanup() {
	rm -f "$out"
}
trap cleanup EXIT

status 1 "$RAWIO" devinfo /nonexistent/x
grep -qx 'rawio devinfo: /nonexistent/x: No such file or directory' "$out" ||
	fail "missing path message: $(cat "$out")"
status 2 "$RAWIO" devinfo
status 2 "$RAWIO" devinfo a b
status 2 "$RAWIO" devinfo --bogus /dev/null
status 0 "$RAWIO" devinfo --help
status 1 "$RAWIO" devinfo /
grep -q 'directory' "$out" || fail "directory message: $(cat "$out")"

# A filesystem that refuses O_DIRECT: described anyway, with the reason.
status 0 "$RAWIO" devinfo /proc/version --json
DEVINFO=$(grep -v '^rawio' "$out")
expect direct false
expect fs_type proc
expect kind file
field open_error | grep -q 'proc filesystem refuses O_DIRECT' || fail "open_error: $(field open_error)"

# A RAM device, both forms; the text form has one key per JSON key.
status 0 "$RAWIO" devinfo mem:64M --json
DEVINFO=$(cat "$out")
expect kind mem
expect size $((64 << 20))
expect logical_block_size 512
expect align_source mem
for k in path kind size logical_block_size physical_block_size mem_align offset_align \
	align_source rotational write_cache nr_requests max_sectors_kb scheduler disk fs_type \
	fs_block_size direct fs_traits.append_challenged fs_traits.append_concurrency \
	fs_traits.fsync_is_exclusive fs_traits.nowait_reads fs_traits.nowait_writes \
	fs_traits.dio_never_blocks fua fua_cheap; do
	jq -e "has(\"${k%%.*}\")" <<<"$DEVINFO" >/dev/null || fail "JSON has no $k"
	[ "${k#*.}" = "$k" ] || jq -e ".fs_traits | has(\"${k#*.}\")" <<<"$DEVINFO" >/dev/null ||
		fail "JSON has no $k"
done
echo "ok: JSON keys"
expect fua null
expect fua_cheap true
status 0 "$RAWIO" devinfo mem:64M
grep -q '^size: *67108864 (64.0 MiB)$' "$out" || fail "text size line: $(cat "$out")"
grep -q '^align_source: *mem$' "$out" || fail "text align_source line"
grep -q '^fua: *unknown$' "$out" || fail "text fua line: $(grep fua "$out")"
grep -q '^fua_cheap: *yes ' "$out" || fail "text fua_cheap line: $(grep fua "$out")"

# A file on a disk: fua is the disk's queue/fua, as sysfs says it.
f=$(mktemp ./devinfo-fua.XXXXXX)
trap 'cleanup; rm -f "$f"' EXIT
truncate -s 1M "$f"
status 0 "$RAWIO" devinfo "$f" --json
DEVINFO=$(grep -v '^rawio' "$out")
disk=$(field disk)
if [ "$disk" != null ] && [ -r "/sys/block/$disk/queue/fua" ]; then
	want=$([ "$(cat "/sys/block/$disk/queue/fua")" = 1 ] && echo true || echo false)
	expect fua "$want"
	status 0 "$RAWIO" devinfo "$f"
	grep -q "^fua: *$([ "$want" = true ] && echo yes || echo no) " "$out" ||
		fail "text fua line for $disk: $(grep fua "$out")"
else
	echo "no disk under $f with a queue/fua ($disk): fua not compared"
fi
echo "PASS"
