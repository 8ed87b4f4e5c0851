#!/usr/bin/env bash
# rawio fsqual on tmpfs (/dev/shm): direct I/O there is a memory copy that
# never sleeps, so the run must say its verdicts mean nothing instead of
# printing GOOD everywhere; every row still runs, with the n/a verdict, and
# the traits are the table's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=/dev/shm
[ "$(stat -f -c %T "$dir" 2>/dev/null)" = tmpfs ] || skip "$dir is not tmpfs"
work=$(mktemp -d "$dir/rawio-fsqual.XXXXXX")
out=$(mktemp)
cleanup() {
	rm -rf "$work" "$out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$RAWIO" fsqual "$work" --ios 64 >"$out" 2>&1 || { cat "$out"; fail "rawio fsqual on tmpfs failed"; }
cat "$out"
grep -q '^WARNING: tmpfs never sleeps in direct I/O .*the verdicts below mean nothing' "$out" ||
	fail "no tmpfs warning"
grep -qE '\((GOOD|BAD)\)$' "$out" && fail "a GOOD or BAD verdict on tmpfs"
fsqual_check_text "$out" "aio uring" 'n/a \(tmpfs\)'
grep -q "^traits for aio: .*(the table's: nothing measured)" "$out" || fail "traits line"

"$RAWIO" fsqual "$work" --ios 64 --engine aio --json >"$out" || fail "--json failed"
fsqual_check_json "$out" "aio" 'n/a \(tmpfs\)'
[ "$(jq -r .meaningful "$out")" = false ] || fail "JSON: meaningful is not false"
jq -e '.warning | test("mean nothing")' "$out" >/dev/null || fail "JSON: no warning"
[ -z "$(ls -A "$work")" ] || fail "files left in $work"
echo "PASS"
