#!/usr/bin/env bash
# rawio pollsim's usage errors name the option and exit 2: a --plot into a
# missing directory (said before the run, not "is gnuplot installed?"), a
# negative model cost (named by its flag), a zero --period.
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
scratch pollsim-msg

awk 'BEGIN { for (i = 0; i < 200; i++) printf "%d, %d, 0, 4096, %d, 0\n", i, 90000, i * 4096 }' \
	>"$work/t.log"

status 2 "$RAWIO" pollsim --trace "$work/t.log" --plot "$work/nodir/x.png"
says "[-]-plot .*nodir/x.png: directory .*nodir"
grep -q gnuplot "$out" && fail "blames gnuplot"

for flag in --io-cost --cs-cost --irq-cost --wake --poll-delay; do
	status 2 "$RAWIO" pollsim --trace "$work/t.log" $flag -1us
	says "^.*$flag: '-1us' is not a time"
done

status 2 "$RAWIO" pollsim --trace "$work/t.log" --period 0ms
says "[-]-period: '0ms' is zero"
status 2 "$RAWIO" pollsim --trace "$work/t.log" --period 1,0,10ms
says "[-]-period: '0ms' is zero"
echo PASS
