#!/usr/bin/env bash
# rawio devinfo on a file in /dev/shm: tmpfs, no disk under it, O_DIRECT
# accepted but never blocking; alignment from statx if the kernel answers
# for tmpfs, else the 4096 guess, said so.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_tool stat dd

dir=/dev/shm
[ "$(stat -f -c %T "$dir" 2>/dev/null)" = tmpfs ] || skip "$dir is not tmpfs"
f=$(mktemp "$dir/rawio-devinfo.XXXXXX")
cleanup() {
	rm -f "$f"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

dd if=/dev/zero of="$f" bs=4096 count=5 status=none
devinfo_json "$f"
echo "$DEVINFO"
expect kind file
expect size 20480
expect fs_type tmpfs
expect fs_magic $((0x01021994))
expect fs_block_size "$(stat -f -c %S "$f")"
expect disk null
expect rotational null
expect scheduler null
expect nr_requests null
expect fs_traits.dio_never_blocks true
expect fs_traits.append_challenged false
case $(field align_source) in
statx) ;;
guess)
	expect offset_align 4096
	expect mem_align 4096
	"$RAWIO" devinfo "$f" | grep -q 'guess (nothing answered' ||
		fail "the text output does not say the alignment is a guess"
	;;
*) fail "align_source $(field align_source) on tmpfs" ;;
esac
if [ "$(field direct)" = true ]; then
	dd if="$f" of=/dev/null bs="$(field offset_align)" count=1 iflag=direct status=none ||
		fail "rawio says O_DIRECT works on tmpfs, dd disagrees"
fi
echo "PASS"
