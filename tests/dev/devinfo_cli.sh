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
	fs_traits.dio_never_blocks; do
	jq -e "has(\"${k%%.*}\")" <<<"$DEVINFO" >/dev/null || fail "JSON has no $k"
	[ "${k#*.}" = "$k" ] || jq -e ".fs_traits | has(\"${k#*.}\")" <<<"$DEVINFO" >/dev/null ||
		fail "JSON has no $k"
done
echo "ok: JSON keys"
status 0 "$RAWIO" devinfo mem:64M
grep -q '^size: *67108864 (64.0 MiB)$' "$out" || fail "text size line: $(cat "$out")"
grep -q '^align_source: *mem$' "$out" || fail "text align_source line"
echo "PASS"
