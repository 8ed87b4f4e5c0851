#!/usr/bin/env bash
# rawio pollsim's command line on a small generated trace: the report and its
# baselines, JSON, --config, a heatmap when gnuplot is there; malformed input
# named by FILE:LINE (exit 1), bad usage (exit 2); short live runs on the mem
# engine with the model's prediction beside them; a calibration written to a
# file and read back.
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
scratch pollsim-cli

# 3000 4 KiB reads of 80..120 us, every 50th a 400 us outlier (rawio's latency log).
awk 'BEGIN { srand(1); for (i = 0; i < 3000; i++) {
	l = 80000 + int(rand() * 40000); if (i % 50 == 0) l = 400000;
	printf "%d, %d, 0, 4096, %d, 0\n", i / 10, l, i * 4096 } }' >"$work/t.log"

status 0 "$RAWIO" pollsim --trace "$work/t.log"
grep -q '^trace: .*(rawio): 3000 I/Os' "$out" || fail "trace line"
for b in spin block linux uring-hybrid min-window; do
	grep -qE "^  $b +[0-9]" "$out" || fail "baseline $b missing"
done
grep -A1 '^best for kiops-core' "$out" | grep -qE '^  (mean|min|p10|ewma):' || fail "best"

status 0 "$RAWIO" pollsim --trace "$work/t.log" --config min:70:10ms,linux --threads 2
grep -qE '^  min:70:10ms +[0-9]' "$out" || fail "--config"
grep -q 'search' "$out" && fail "--config does not search"

if command -v jq >/dev/null; then
	status 0 "$RAWIO" pollsim --trace "$work/t.log" --json --objective cpu --rule min,runmin \
		--ratio 50:90:20 --period 1,10ms
	jq -e '.trace.ios == 3000 and (.baselines | length) == 5 and (.grid | length) == 9
		and .best.cpu.cpu <= .baselines[0].cpu' "$out" >/dev/null || fail "json"
fi

if command -v gnuplot >/dev/null; then
	status 0 "$RAWIO" pollsim --trace "$work/t.log" --ratio 50:100:25 --plot "$work/h.png"
	[ "$(head -c 4 "$work/h.png" | tail -c 3)" = "PNG" ] || fail "not a PNG"
fi

# Malformed input: one line, naming the file and the line.
printf '0, 1000, 0, 4096\n1, x, 0, 4096\n' >"$work/bad.log"
status 1 "$RAWIO" pollsim --trace "$work/bad.log"
grep -q "bad.log:2: latency: 'x' is not a number" "$out" || fail "error names line 2"
status 1 "$RAWIO" pollsim --trace "$work/none.log"
grep -q 'none.log' "$out" || fail "missing file named"
: >"$work/empty.log"
status 1 "$RAWIO" pollsim --trace "$work/empty.log"
status 2 "$RAWIO" pollsim
status 2 "$RAWIO" pollsim --trace "$work/t.log" --format xyz
status 2 "$RAWIO" pollsim --trace "$work/t.log" --ratio 90:10:10
status 2 "$RAWIO" pollsim --trace "$work/t.log" --rule fastest
status 2 "$RAWIO" pollsim --trace "$work/t.log" --period 10parsecs
status 2 "$RAWIO" pollsim --live --wait sometimes
status 0 "$RAWIO" pollsim --help

# Live, on the mem engine.
status 0 "$RAWIO" pollsim --live --lat 20us --wait spin --ios 300
grep -q 'measured:' "$out" || fail "live spin"
status 0 "$RAWIO" pollsim --live --trace "$work/t.log" --ios 300 --wait hybrid --poll min:70:1ms
grep -q 'predicted:' "$out" || fail "live with a trace shows the prediction"
status 1 "$RAWIO" pollsim --live --engine uring
grep -q 'needs a file' "$out" || fail "uring without a file"

# Calibration, written and read back.
status 0 "$RAWIO" pollsim --calibrate --ios 100 --out "$work/params"
[ "$(grep -c '^wake ' "$work/params")" -eq 10 ] || fail "ten wake rows"
status 0 "$RAWIO" pollsim --trace "$work/t.log" --params "$work/params" --config linux
grep -q 'measured table, 10 sleep lengths' "$out" || fail "params used"
echo 'io_ns lots' >"$work/badparams"
status 1 "$RAWIO" pollsim --trace "$work/t.log" --params "$work/badparams"
grep -q 'badparams:1:' "$out" || fail "params error names the line"
echo PASS
