#!/usr/bin/env bash
# Long work shows one progress line on stderr when stderr is a terminal (rewritten with \r,
# its last state kept with a newline), and nothing when it is not: pollsim's simulation,
# cache drain, fsqual --json, bench. `script` gives the command a terminal.
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
need_tool script
scratch cli-progress

# on_tty CMD...: run CMD with a terminal as stdin/stdout/stderr; its stdout is discarded, the
# terminal's bytes (stderr) land in $out with \r turned into \n (one line per update).
on_tty() {
	local q=""
	for a in "$@"; do q+=" $(printf '%q' "$a")"; done
	script -qec "$q >/dev/null" /dev/null | tr '\r' '\n' >"$out"
}
# kept PATTERN: the last update matches PATTERN and ends the line.
kept() {
	grep -aE "$1" "$out" | tail -1 | grep -q . || { cat -A "$out" >&2; fail "no line '$1'"; }
	tail -c 200 "$out" | grep -aqE "$1" || { cat -A "$out" >&2; fail "'$1' not kept last"; }
	echo "ok: $1"
}

awk 'BEGIN { for (i = 0; i < 1000; i++) printf "%d, %d, 0, 4096, %d, 0\n", i, 90000, i * 4096 }' \
	>"$work/t.log"
on_tty "$RAWIO" pollsim --trace "$work/t.log" --ios 200000 --rule mean --ratio 50:50:10 --period 1ms
kept "^.\[Kpollsim: 1200\.0k of 1200\.0k simulated I/Os \(100%\)"
"$RAWIO" pollsim --trace "$work/t.log" --ios 200000 --rule mean --ratio 50:50:10 --period 1ms \
	2>"$out" >/dev/null
grep -q "pollsim:" "$out" && fail "a progress line without a terminal"

c=$work/c.img
b=$work/b.img
"$RAWIO" cache format "$c" "$b" --size 12m --backing-size 8m --segment-size 64k >/dev/null
"$RAWIO" cache bench fsync "$c" "$b" --segment-size 64k --writers 2 --seconds 0.3 --force >/dev/null
on_tty "$RAWIO" cache drain "$c" "$b"
kept "^.\[Kdrain: ([0-9]+) of \1 dirty blocks written back \(100%\)"

on_tty "$RAWIO" fsqual "$work" --engine aio --ios 50 --json
kept "^.\[Kfsqual aio: 12 of 12 rows"

on_tty "$RAWIO" bench --engine mem --size 1M --runtime 1s --ramp 0
kept "^.\[K\[run\] jobs=1 IOPS="
"$RAWIO" bench --engine mem --size 1M --runtime 1s --ramp 0 2>"$out" >/dev/null
[ -s "$out" ] && fail "bench wrote to stderr without a terminal: $(cat "$out")"
echo PASS
