#!/usr/bin/env bash
# Every subcommand's usage errors exit 2 with one line naming what was wrong (an
# unknown option, command or engine, a missing argument): scripts can tell "you called me
# wrong" from "it failed" (1). Nothing here opens a device.
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
scratch cli-usage
nx=$work/none # never created: a usage error must be found before any open

usage2() {
	status 2 "$RAWIO" "$@"
	[ -s "$out" ] || fail "$*: exit 2 without a word"
}

# An unknown option, everywhere; getopt's own message carries the command's name.
for sub in devinfo demo bench export fsqual iotune pollsim; do
	usage2 "$sub" --no-such-option
	says "^rawio $sub: unrecognized option '--no-such-option'"
done
for sub in format set; do
	usage2 cache "$sub" --no-such-option
	says "^rawio cache: unrecognized option '--no-such-option'"
done
usage2 store put "$nx" --no-such-option

# An unknown command, and missing arguments.
usage2 no-such-command
usage2 cache no-such-command "$nx" "$nx.b"
usage2 store
usage2 cache format "$nx"
usage2 cache set "$nx" nr_batched_migration

# An unknown engine: named, with the list, exit 2 (it was 1 and said so only at open).
for args in "bench --engine foo --file mem:1M" "iotune $nx --engine foo" \
	"pollsim --live --engine foo" "export --engine foo mem:1M" \
	"store stat $nx --engine foo" "cache stat $nx $nx.b --backing-engine foo"; do
	# shellcheck disable=SC2086
	usage2 $args
	says "unknown engine 'foo' \(engines: auto sync .*mem"
done

# Out-of-range and malformed values name the option.
usage2 bench --qd 0
says "rawio bench: --qd: '0' is not a number from"
usage2 cache format "$nx" "$nx.b" --segment-size 4x
says "rawio cache: --segment-size: '4x' is not a size"
usage2 fsqual --engine foo
says "rawio fsqual: --engine: 'foo' is not aio, uring or all"
echo PASS
