#!/usr/bin/env bash
# The NBD plugin's scheduler parameters: an export in class=NAME:SHARES behind
# io-properties=FILE moves 8 MiB in and out unchanged (a plain device and a cache);
# class= without a model, a malformed class= and class= on a cache are refused
# with a message naming the parameter.
set -euo pipefail
. "$RAWIO_TESTS/frontend/lib.sh"
need_tool nbdcopy cmp

scratch nbd-class
head -c 8M /dev/urandom >"$work/in"
io_props "$work/p.yaml" mem 100000 1G 50000 500M

copy() { # NAME PARAMS...
	local name=$1
	shift
	rm -f "$work/out"
	serve "$@" -- "nbdcopy '$work/in' \"\$uri\" && nbdcopy \"\$uri\" '$work/out'" ||
		fail "$name: nbdcopy failed"
	cmp "$work/in" "$work/out" || fail "$name: data changed"
	echo "ok: $name"
}
copy "plain device in a class" dev=mem:8m io-properties="$work/p.yaml" class=tenant-a:300
fresh_cache "$work" 16M 8M
copy "cache with a model" cache="$work/cache.img" backing="$work/backing.img" \
	io-properties="$work/p.yaml"

refused() { # WHAT EXPECTED-MESSAGE PARAMS...
	local what=$1 msg=$2
	shift 2
	if nbdkit_run -U "$(nbd_sock)" "$RAWIO_PLUGIN" "$@" --run true 2>"$work/err"; then
		fail "$what was accepted"
	fi
	grep -q -- "$msg" "$work/err" || fail "$what: $(cat "$work/err")"
	echo "ok: $what refused"
}
refused "class= without io-properties" "class= needs io-properties" dev=mem:8m class=a:3
refused "class=NAME" "class=bad: want NAME:SHARES" dev=mem:8m io-properties="$work/p.yaml" \
	class=bad
refused "class shares 0" "class=a:0" dev=mem:8m io-properties="$work/p.yaml" class=a:0
refused "class= on a cache" "class= is for dev=" cache="$work/cache.img" \
	backing="$work/backing.img" io-properties="$work/p.yaml" class=a:3
printf 'disks:\n  - mountpoint: m\n    read_iops: many\n' >"$work/bad.yaml"
refused "a bad properties file" "bad.yaml.*line 3" dev=mem:8m io-properties="$work/bad.yaml"
