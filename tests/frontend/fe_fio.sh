#!/usr/bin/env bash
# fio --ioengine=nbd: random writes of mixed sizes with crc32c verify, read
# back and checked, through the plugin on a file, on mem: (both the plugin's
# direct copy and the mem engine) and on a cache.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_tool fio
fio --enghelp=nbd >/dev/null 2>&1 || skip "this fio has no nbd engine"

scratch fe-fio

# check NAME PARAMS...
check() {
	local name=$1
	shift
	serve "$@" -- "fio --name=$name --ioengine=nbd --uri=\"\$uri\" --rw=randwrite \
		--bsrange=512-64k --size=48m --iodepth=16 --numjobs=1 --verify=crc32c \
		--do_verify=1 --verify_fatal=1 --output='$work/fio.out'" ||
		{ cat "$work/fio.out" >&2; fail "$name: fio verify failed"; }
	grep -q "err= 0" "$work/fio.out" || { cat "$work/fio.out" >&2; fail "$name: fio errors"; }
	echo "ok: $name: randwrite + verify=crc32c"
}

truncate -s 64M "$work/file.img"
check file "dev=$work/file.img"
check mem dev=mem:64m # copied by the plugin (rp_mem_direct)
check mem-engine dev=mem:64m engine=mem # the same through the mem engine
fresh_cache "$work" 32M 64M
check cache "cache=$work/cache.img" "backing=$work/backing.img"
