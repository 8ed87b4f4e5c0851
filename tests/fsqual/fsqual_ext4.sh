#!/usr/bin/env bash
# rawio fsqual on ext4, in a directory under the build tree (this machine's
# /work): every row runs with both engines, with a GOOD or BAD verdict, in text
# and in JSON, and nothing is left behind.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

work=$(mktemp -d "$PWD/rawio-fsqual-ext4.XXXXXX")
cleanup() {
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

[ "$(stat -f -c %T "$work")" = ext2/ext3 ] || skip "$PWD is not on ext4"
fsqual_run_dir "$work" ext4
echo "PASS"
