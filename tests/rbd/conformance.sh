#!/usr/bin/env bash
# The engine conformance suite on the rbd engine: conformance.sh BINARY CASE, on a 16 MiB
# image of its own (the suite's scratch size).
set -euo pipefail
source "$RAWIO_TESTS/lib.sh"
source "$RAWIO_TESTS/rbd/lib.sh"
bin=$1 case=$2
rbd_image "conf-$case" 16M
RAWIO_CONFORMANCE_DEV=$path "$bin" rbd "$case"
