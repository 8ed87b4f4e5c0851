#!/usr/bin/env bash
# The engine conformance suite on the nbd engine: conformance.sh BINARY PLUGIN CASE, against
# nbdkit's memory or file plugin (16 MiB, as the suite's scratch devices).
set -euo pipefail
source "$RAWIO_TESTS/lib.sh"
source "$RAWIO_TESTS/nbd/lib.sh"

bin=$1 plugin=$2 case=$3
case $plugin in
memory) nbd_start srv memory 16M ;;
file)
	truncate -s 16M "$dir/disk.img"
	nbd_start srv file "$dir/disk.img"
	;;
*) fail "unknown plugin $plugin" ;;
esac
RAWIO_CONFORMANCE_DEV=$uri "$bin" nbd "$case"
