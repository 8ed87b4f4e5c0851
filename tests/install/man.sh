#!/usr/bin/env bash
# Every man page the build rendered reads cleanly: man -l with groff's warnings on prints
# nothing on stderr, and the page has its NAME and SEE ALSO; every subcommand has a page.
#
# usage: man.sh PAGE...
set -euo pipefail
. "$RAWIO_TESTS/lib.sh"
need_tool man groff
[ $# -gt 0 ] || fail "no pages given"
tmp=$(mktemp -d /tmp/rawio-man.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# Every subcommand rawio --help lists has its page.
for cmd in $("$RAWIO" --help | sed -n 's/^  rawio \([a-z]*\) .*/\1/p'); do
	found=
	for page in "$@"; do
		[ "$(basename "$page")" = "rawio-$cmd.1" ] && found=1
	done
	[ -n "$found" ] || fail "rawio $cmd has no man page (man/rawio-$cmd.1.scd)"
done
echo "ok: a page for every subcommand"
for page in "$@"; do
	[ -s "$page" ] || fail "$page: missing or empty"
	MANWIDTH=80 LC_ALL=C.UTF-8 man -l --warnings -E UTF-8 "$page" >"$tmp/text" 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; fail "$page: man exited $?"; }
	[ ! -s "$tmp/err" ] || { cat "$tmp/err" >&2; fail "$page: warnings"; }
	grep -q '^NAME' "$tmp/text" || fail "$page: no NAME section"
	grep -q '^SEE ALSO' "$tmp/text" || fail "$page: no SEE ALSO section"
	echo "ok: $(basename "$page"): $(wc -l <"$tmp/text") lines, no warnings"
done
