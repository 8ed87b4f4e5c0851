#!/usr/bin/env bash
# rawio iotune: io_properties.yaml on stdout (the same as --properties-file), --json with the
# rates and the sweep, usage errors, a block device refused without --write-device.
set -euo pipefail
. "$RAWIO_TESTS/lib.sh"
need_tool jq
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out

"$RAWIO" iotune mem:16m --throttle iops=4000,bw=200m --duration 2 --size 16m \
	--properties-file "$tmp/p.yaml" >"$tmp/stdout" 2>"$tmp/stderr" || {
	cat "$tmp/stderr" >&2
	fail "iotune on an emulated disk failed"
}
cmp -s "$tmp/stdout" "$tmp/p.yaml" || fail "stdout and --properties-file differ"
for k in "^disks:" "- mountpoint: mem:16m" "read_iops: [0-9]+" "read_bandwidth: [0-9]+" \
	"write_iops: [0-9]+" "write_bandwidth: [0-9]+"; do
	grep -qE -- "$k" "$tmp/p.yaml" || fail "properties lack $k"
done
grep -q "saturation depth" "$tmp/stderr" || fail "no summary on stderr"
echo "ok: yaml"

j=$("$RAWIO" iotune mem:16m --throttle iops=4000,bw=200m --duration 2 --size 16m --json \
	2>/dev/null)
jcheck "$j" '.disk.read_iops > 0 and .disk.write_bandwidth > 0' "disk rates"
jcheck "$j" '.rand_read.samples >= 1 and (.depth_sweep | length) == 7' "samples and sweep"
jcheck "$j" '.engine == "throttle" and .fsqual_ran == false' "engine, no fsqual on mem"

status 2 "$RAWIO" iotune
status 2 "$RAWIO" iotune mem:16m --duration 0
status 1 "$RAWIO" iotune /nonexistent/dir
says "/nonexistent/dir"
if [ -b /dev/vda ] || [ -b /dev/loop0 ]; then
	dev=/dev/vda
	[ -b $dev ] || dev=/dev/loop0
	status 1 "$RAWIO" iotune $dev --duration 1
	says "write-device"
fi
echo "ok: errors"
