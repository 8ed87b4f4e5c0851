#!/usr/bin/env bash
# One time parser for every time option (tools/cli.c cli_time): bench and pollsim accept the
# same units (ns, us, ms, s, m, h) and refuse the same things with the same message.
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
scratch cli-time

awk 'BEGIN { for (i = 0; i < 200; i++) printf "%d, %d, 0, 4096, %d, 0\n", i, 90000, i * 4096 }' \
	>"$work/t.log"

# pollsim took ns, us, ms, s only: minutes and hours were "not a time".
status 0 "$RAWIO" pollsim --trace "$work/t.log" --period 1m,30s --ratio 50:50:10 --rule mean
status 0 "$RAWIO" pollsim --trace "$work/t.log" --config linux --wake 0.001ms --io-cost 1000ns
# bench's units, and a bare number is its seconds.
status 0 "$RAWIO" bench --engine mem --size 1M --runtime 0.05 --ramp 1us --no-progress --json
jq -e '.runtime_ns == 50000000 and .ramp_ns == 1000' "$out" >/dev/null || fail "bench units"
# The same refusals, the same words, naming the option.
for bad in -1s 1sec 1x inf; do
	status 2 "$RAWIO" bench --engine mem --size 1M --runtime "$bad" --no-progress
	says "rawio bench: --runtime: '$bad' is not a time \(a number and ns, us, ms, s, m or h"
	status 2 "$RAWIO" pollsim --trace "$work/t.log" --wake "$bad"
	says "rawio pollsim: --wake: '$bad' is not a time \(a number and ns, us, ms, s, m or h"
done
status 2 "$RAWIO" pollsim --trace "$work/t.log" --io-cost 2h
says "rawio pollsim: --io-cost: '2h' is longer than"
# A window longer than the predictor keeps is named, not "search: Invalid argument".
status 2 "$RAWIO" pollsim --trace "$work/t.log" --period 1h
says "rawio pollsim: --period: '1h' is longer than 60.00s"
echo PASS
