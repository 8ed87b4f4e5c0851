#!/usr/bin/env bash
# run.sh BINARY MODE SIZE: rbd_crash MODE on an image of its own (tests/rbd/rbd_crash.c).
set -euo pipefail
source "$RAWIO_TESTS/lib.sh"
source "$RAWIO_TESTS/rbd/lib.sh"
bin=$1 mode=$2 size=$3
rbd_image "crash-$mode" "$size"
if [ "$mode" = osd ] || [ "$mode" = osd-stop ]; then
	"$bin" "$mode" "$path" "$RAWIO_RBD_DIR"
else
	"$bin" "$mode" "$path"
fi
