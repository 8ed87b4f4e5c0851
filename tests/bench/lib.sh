# Shared by the bench shell tests; source it after `set -euo pipefail`.
# Exit codes: 0 pass, 1 fail, 77 skip.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_tool jq

# A scratch directory in the build tree, removed on exit (add more to cleanup_more).
scratch=$(mktemp -d "${TMPDIR:-/tmp}/rawio-bench-test.XXXXXX")
out=$scratch/out
cleanup_more() { :; }
cleanup() {
	set +e
	cleanup_more
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
