# Shared by the dev shell tests; source it after `set -euo pipefail`.
# Exit codes: 0 pass, 1 fail, 77 skip.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_tool jq

# devinfo_json PATH: run `rawio devinfo PATH --json` into $DEVINFO.
devinfo_json() {
	DEVINFO=$("$RAWIO" devinfo "$1" --json) || fail "rawio devinfo $1 failed"
}

# field KEY: a value from $DEVINFO (jq path without the dot, e.g. fs_traits.dio_never_blocks).
field() {
	jq -r ".$1" <<<"$DEVINFO"
}

# expect KEY WANT: the devinfo field KEY equals WANT.
expect() {
	local got
	got=$(field "$1")
	[ "$got" = "$2" ] || fail "$1: rawio says '$got', expected '$2'"
	echo "ok: $1 = $got"
}

# sysfs_q DISK FILE: /sys/block/DISK/queue/FILE, or "null" when absent.
sysfs_q() {
	if [ -r "/sys/block/$1/queue/$2" ]; then
		cat "/sys/block/$1/queue/$2"
	else
		echo null
	fi
}

# lsblk_field DEV COLUMN: one lsblk -b -d -J column (null when lsblk has none).
lsblk_field() {
	lsblk -b -d -J -o "$2" "$1" | jq -r ".blockdevices[0][\"${2,,}\"]"
}

# expect_queue DISK: rawio's queue fields equal sysfs and lsblk for DISK (kernel name).
expect_queue() {
	local disk=$1 wc sched rot
	expect disk "$disk"
	expect disk_major "$(cut -d: -f1 "/sys/block/$disk/dev")"
	expect disk_minor "$(cut -d: -f2 "/sys/block/$disk/dev")"
	expect logical_block_size "$(lsblk_field "/dev/$disk" LOG-SEC)"
	expect physical_block_size "$(lsblk_field "/dev/$disk" PHY-SEC)"
	expect rotational "$(lsblk_field "/dev/$disk" ROTA)"
	expect nr_requests "$(lsblk_field "/dev/$disk" RQ-SIZE)"
	expect scheduler "$(lsblk_field "/dev/$disk" SCHED)"
	wc=$(sysfs_q "$disk" write_cache)
	expect write_cache "$wc"
	expect fua "$([ "$(sysfs_q "$disk" fua)" = 1 ] && echo true || echo false)"
	expect max_sectors_kb "$(sysfs_q "$disk" max_sectors_kb)"
	expect max_hw_sectors_kb "$(sysfs_q "$disk" max_hw_sectors_kb)"
	if [ "$(lsblk_field "/dev/$disk" DISC-MAX)" -gt 0 ]; then
		expect discard true
	else
		expect discard false
	fi
}

# expect_dio_align DISK: the kernel's direct I/O rule for a block device (and
# for ext4/xfs files on it): offsets by the logical block size, memory by
# queue/dma_alignment + 1.
expect_dio_align() {
	expect offset_align "$(lsblk_field "/dev/$1" LOG-SEC)"
	expect mem_align "$(($(cat "/sys/block/$1/queue/dma_alignment") + 1))"
}
