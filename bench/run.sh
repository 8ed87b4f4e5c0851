#!/usr/bin/env bash
# What `make bench` runs: the quick side-by-side with fio on a file on the build tree's
# filesystem and on zram, then the plot. Outputs under build/bench/ (never committed).
#
# usage: bench/run.sh [RAWIO_BINARY] [vs-fio.sh options...]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
	RAWIO=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
	shift
fi
export RAWIO=${RAWIO:-$here/../build/release/tools/rawio}
"$here/vs-fio.sh" --quick "$@"
"$here/plot.sh"
