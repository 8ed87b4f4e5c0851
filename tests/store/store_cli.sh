#!/usr/bin/env bash
# rawio store from the command line: format guard, put/get of files and stdin,
# rm, ls --json, stat, recover --json, check, and clear errors for bad input.
set -euo pipefail
work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-store-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
img="$work/store.img"
fail() { echo "FAIL: $*" >&2; exit 1; }

$RAWIO store format "$img" --size 64M --slot-size 1M
if $RAWIO store format "$img" --size 64M 2>"$work/err"; then fail "reformat without --force"; fi
grep -q -- "--force" "$work/err" || fail "reformat message: $(cat "$work/err")"
$RAWIO store format "$img" --force --slot-size 1M

head -c 300000 /dev/urandom >"$work/blob"
$RAWIO store put "$img" blob "$work/blob" --durable
echo -n "from stdin" | $RAWIO store put "$img" text -
$RAWIO store get "$img" blob "$work/out"
cmp "$work/blob" "$work/out" || fail "blob differs"
[ "$($RAWIO store get "$img" text)" = "from stdin" ] || fail "stdin round trip"

$RAWIO store ls "$img" --json | jq -e 'length == 2 and (map(.key) | sort == ["blob","text"])' >/dev/null ||
	fail "ls --json"
$RAWIO store stat "$img" --json | jq -e '.objects == 2 and .slot_size == 1048576' >/dev/null ||
	fail "stat --json"
$RAWIO store rm "$img" text
if $RAWIO store get "$img" text 2>"$work/err"; then fail "get of a removed key"; fi
grep -q "no such key" "$work/err" || fail "get message: $(cat "$work/err")"

for e in sync threads aio uring; do
	$RAWIO store recover "$img" --engine $e --json |
		jq -e --arg e $e '.engine == $e and .entries == 1 and .validated == 1' >/dev/null ||
		fail "recover --engine $e"
done
# auto: the engine the headers were read with and recovery's own reason for it.
$RAWIO store recover "$img" --json | jq -e '(.engine | startswith("auto:")) and
	.engine_auto == (.engine | ltrimstr("auto:")) and (.engine_auto_why | length > 0)' \
	>/dev/null || fail "recover --json: engine auto and its reason"
$RAWIO store recover "$img" | grep -q "engine auto: .*, because ." || fail "recover: auto note"
$RAWIO store recover "$img" --mode scan --json | jq -e '.mode == "scan" and .entries == 1' \
	>/dev/null || fail "recover --mode scan"
$RAWIO store check "$img" | grep -q consistent || fail "check"

# Bad input: a clear line and a non-zero exit, nothing changed.
expect_err() { # expect_err PATTERN CMD...
	local pat=$1
	shift
	if "$@" 2>"$work/err"; then fail "succeeded: $*"; fi
	grep -q -- "$pat" "$work/err" || fail "'$*' said: $(cat "$work/err")"
}
expect_err "No such file" $RAWIO store ls "$work/missing"
expect_err "not a rawio store" $RAWIO store ls "$work/blob"
expect_err "must be 1 to 32 bytes" $RAWIO store put "$img" 0123456789012345678901234567890123 "$work/blob"
expect_err "more than" $RAWIO store put "$img" big <(head -c 2000000 /dev/zero)
expect_err "unknown engine 'bogus' (engines: auto sync" $RAWIO store recover "$img" --engine bogus
expect_err "not a size" $RAWIO store format "$img" --slot-size lots
expect_err "unknown command" $RAWIO store frobnicate "$img"
$RAWIO store get "$img" blob | cmp - "$work/blob" || fail "blob changed by bad input"
echo "store cli: ok"
