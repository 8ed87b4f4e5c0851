#!/usr/bin/env bash
# The NBD frontend's performance (issue 14), side by side in one run.
#
#   bench/nbd.sh [--build DIR] [--dir DIR] [--seconds S] [--runs|--rounds N] [--json FILE]
#                [--fs] [--sections plugin,cache,fs] [--groups G,...] [--plugin-b SO]
#
# 1. Plugin overhead: fio --ioengine=nbd (4K randread QD 1 and 32, 4K randwrite
#    QD 32, 1M seq write QD 8) against nbdkit-rawio-plugin.so dev=FILE and
#    nbdkit's own `file` plugin on the same preallocated 1 GiB file under DIR
#    (default var/nbd-bench, on this machine's disk), and nbdkit's `memory`
#    plugin against dev=mem:1G (both written whole by one untimed 1M write
#    before the rows: a RAM disk that holds data). Goal: rawio >= 1.00x on
#    every row.
#    rawio opens the file O_DIRECT by default; nbdkit's `file` goes through the
#    page cache, so the file rows run three ways: group "file-buffered" (like
#    for like: rawio buffered=true against `file`, both through the page cache),
#    group "file" (rawio O_DIRECT against `file`) and group "file-nocache"
#    (rawio O_DIRECT against `file cache=none fadvise=random`, nbdkit 1.32's
#    closest to no page cache: it still copies through it, then drops the
#    pages: reads miss, writes reach the disk before their reply).
# 2. The cache over an hdd-emulated backing (cache=FILE backing=FILE
#    backing-throttle=hdd) through NBD: fio 4K randwrite QD 32 (end_fsync=1)
#    against the backing exported alone with the same throttle (goal >= 20x),
#    and against `rawio cache bench absorb` in process (goal >= 50%); also with
#    4 connections at QD 8 each (fio numjobs=4: the plugin is multi-conn), the
#    same 32 in flight as absorb's 32 threads; and the protocol's ceiling on
#    this machine: the same fio job into a device that does nothing (rawio's
#    dev=mem:1G,backed=0, also through 4 connections, and nbdkit's null),
#    shown as % of absorb.
# 3. With --fs (root, nbdfuse, losetup): ext4 through `rawio export --attach` on
#    the cache over the emulated hdd against the backing alone through the same
#    path; fio 4K randwrite with fsync=1 on the mounted fs (goal >= 5x).
# Every pair runs RUNS times (default 3), the order alternating each round, for
# S seconds (default 3); the table shows medians, the ratio of medians, the
# lowest and highest per-round ratio, how many rounds reached 1.00x ("k/n") and
# a verdict ("(spread)": some round fell on the other side of the goal; then
# more --runs, and --groups to spend them on the rows in doubt).
# --sections: which of 1 (plugin), 2 (cache), 3 (fs) run (default plugin,cache;
# --fs adds fs). The default run takes about 6 minutes on a quiet 2-vCPU machine;
# --seconds 2 (the goal command) under 5.
# --groups: which of the plugin section's groups run (default
# file-buffered,file,file-nocache,mem); only the variants they need start.
# --plugin-b SO: another build of the plugin (e.g. main's) also runs the O_DIRECT
# file rows in the same rounds, as group file-nocache-b against the same nbdkit
# `file cache=none` runs, the buffered=true rows as group file-buffered-b
# against the same `file` runs, and the mem rows as group mem-b against the same
# `memory` runs: an A/B of two plugins in one table; a second table gives each
# row's A/B ratio (median of the per-round A/B, its range, rounds A won).
# --json FILE (default DIR/../nbd-bench.json): one object per row; every run
# beside it in FILE's name with .runs.jsonl.
# Every nbdkit runs on a unix socket in a temp dir; all is removed on exit.
set -euo pipefail

build=build/release
dir=var/nbd-bench
secs=3
sections=plugin,cache
runs=3
json=""
fs=0
plugin_b=""
groups=file-buffered,file,file-nocache,mem
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift ;;
	--dir) dir=$2; shift ;;
	--seconds) secs=$2; shift ;;
	--runs | --rounds) runs=$2; shift ;;
	--groups) groups=$2; shift ;;
	--json) json=$2; shift ;;
	--fs) fs=1 ;;
	--plugin-b) plugin_b=$(realpath "$2"); shift ;;
	--sections) sections=$2; shift ;;
	-h | --help) sed -n '2,52p' "$0"; exit 0 ;;
	*) echo "nbd.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
has() { [[ ",$sections," == *",$1,"* ]]; }
hasg() { [[ ",$groups," == *",$1,"* ]]; }
for g in ${groups//,/ }; do
	case $g in file-buffered | file | file-nocache | mem) ;;
	*) echo "nbd.sh: unknown group $g (file-buffered, file, file-nocache, mem)" >&2; exit 2 ;;
	esac
done
[ $fs = 0 ] || sections=$sections,fs
start=$(date +%s)
rawio=$build/tools/rawio
plugin=$(realpath "$build/frontends/nbdkit/nbdkit-rawio-plugin.so" 2>/dev/null || true)
[ -x "$rawio" ] && [ -f "$plugin" ] ||
	{ echo "nbd.sh: rawio or the plugin not built in $build" >&2; exit 1; }
for t in nbdkit fio jq; do
	command -v $t >/dev/null || { echo "nbd.sh: needs $t" >&2; exit 1; }
done
[ -n "$json" ] || json=$dir.json

tmp=$(mktemp -d /tmp/nbd-bench.XXXXXX)
mkdir -p "$dir"
work=$(mktemp -d "$dir/run.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "${mnt:-}" ] && mountpoint -q "$mnt"; then umount "$mnt" || true; fi
	cat "$tmp"/*.log >"$dir/last-run.log" 2>/dev/null || true
	rm -rf "$tmp" "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
results=$tmp/results.jsonl
: >"$results"

# serve NAME PLUGIN ARGS...: nbdkit in the foreground on $tmp/NAME.sock; sets $sock.
serve() {
	local name=$1 i
	shift
	nserved=$((${nserved:-0} + 1))
	sock=$tmp/$nserved-$name.sock # fresh each time: a stale socket would look ready
	nbdkit -f -U "$sock" "$@" 2>>"$tmp/nbdkit.log" &
	pids+=($!)
	for ((i = 0; i < 1200; i++)); do # 60 s: a prefaulted 1 GiB mem: takes seconds
		[ -S "$sock" ] && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.05
	done
	echo "nbd.sh: nbdkit $* did not start:" >&2
	cat "$tmp/nbdkit.log" >&2
	exit 1
}
# stop: SIGINT to the last nbdkit started, and wait for it (durability on exit).
stop() {
	local p=${pids[-1]} rc=0
	kill -INT "$p" 2>/dev/null || echo "nbd.sh: nbdkit $p had exited before SIGINT" >>"$tmp/nbdkit.log"
	wait "$p" || rc=$?
	[ $rc = 0 ] || echo "nbd.sh: nbdkit $p exit status $rc" >>"$tmp/nbdkit.log"
	unset 'pids[-1]'
}

# fio_nbd SOCK RW BS QD [extra...]: prints IOPS.
fio_nbd() {
	local s=$1 rw=$2 bs=$3 qd=$4
	shift 4
	fio --name=nbd --ioengine=nbd --uri="nbd+unix:///?socket=$s" --rw="$rw" --bs="$bs" \
		--iodepth="$qd" --size=1g --runtime="$secs" --time_based --randrepeat=0 \
		--output-format=json "$@" 2>>"$tmp/fio.log" |
		sed -n '/^{/,$p' | jq '.jobs[0] | (.read.iops + .write.iops)'
}
record() { # group row variant iops (round: $r)
	echo "$r $1 $2 $3 $4" >>"$tmp/progress.log"
	jq -nc --arg g "$1" --arg r "$2" --arg v "$3" --argjson i "$4" --argjson n "$r" \
		'{group: $g, row: $r, variant: $v, iops: $i, round: $n}' >>"$results"
}

workloads=("randread 4k 1" "randread 4k 32" "randwrite 4k 32" "write 1m 8")
wname() { set -- $1; echo "$2 $1 QD $3"; }

echo "== bench/nbd.sh ($(uname -r), $(nproc) cores, $(date -u +%F)); $runs runs x ${secs}s, medians"
echo "uptime before: $(uptime)"

# page_cache VARIANT: the same start for every round whatever ran before. The
# two page-cache variants start with the whole file cached and clean (the
# 2026-12-07 quiet pass compared rawio on a cold cache, 9.8K IOPS at QD 1 like
# its O_DIRECT run, with nbdkit on a warm one, 17.5K like the memory plugin:
# whoever ran after a 1M write row found the file in RAM); `file cache=none`
# and O_DIRECT start with none of it cached (dd iflag=nocache: POSIX_FADV_DONTNEED).
page_cache() {
	case $1 in
	buffered | buffered-b | other) cat "$data" >/dev/null ;;
	*) dd if="$data" iflag=nocache count=0 status=none ;;
	esac
}

# 1. Plugin overhead.
# want VARIANT: does a group asked for (--groups) need it? (-b: only with --plugin-b)
want() {
	case $1 in
	*-b) [ -n "$plugin_b" ] && want "${1%-b}" ;;
	rawio) hasg file || hasg file-nocache ;;
	buffered) hasg file-buffered ;;
	other) hasg file || hasg file-buffered ;;
	nocache) hasg file-nocache ;;
	mem-rawio | mem-other) hasg mem ;;
	*) return 1 ;;
	esac
}
# order ROUND LIST: the variants of LIST that run, reversed in even rounds (each
# first in every other round; B beside A).
order() {
	local round=$1 v out=()
	shift
	for v in "$@"; do want $v && out+=($v); done
	if ((round % 2 == 0)); then
		for ((v = ${#out[@]} - 1; v >= 0; v--)); do echo "${out[v]}"; done
	else
		printf '%s\n' "${out[@]}"
	fi
}
data=$work/data.img
if has plugin; then
	if hasg file || hasg file-buffered || hasg file-nocache; then
		fallocate -l 1g "$data"
		dd if=/dev/zero of="$data" bs=1M count=1024 oflag=direct conv=notrunc status=none
	fi
	for ((r = 1; r <= runs; r++)); do
		for v in $(order $r rawio rawio-b buffered buffered-b other nocache); do
			page_cache $v
			case $v in
			rawio) serve file-rawio "$plugin" dev="$data" ;;
			rawio-b) serve file-rawio-b "$plugin_b" dev="$data" ;;
			buffered) serve file-rawio-buffered "$plugin" dev="$data" buffered=true ;;
			buffered-b) serve file-rawio-buffered-b "$plugin_b" dev="$data" buffered=true ;;
			other) serve file-nbdkit file "$data" ;;
			nocache) serve file-nbdkit-nocache file "$data" cache=none fadvise=random ;;
			esac
			for w in "${workloads[@]}"; do
				set -- $w
				iops=$(fio_nbd "$sock" "$1" "$2" "$3")
				case $v in
				nocache)
					record file-nocache "$(wname "$w")" other "$iops"
					[ -z "$plugin_b" ] || record file-nocache-b "$(wname "$w")" other "$iops" ;;
				rawio-b) record file-nocache-b "$(wname "$w")" rawio "$iops" ;;
				rawio)
					! hasg file || record file "$(wname "$w")" rawio "$iops"
					! hasg file-nocache || record file-nocache "$(wname "$w")" rawio "$iops" ;;
				buffered) record file-buffered "$(wname "$w")" rawio "$iops" ;;
				buffered-b) record file-buffered-b "$(wname "$w")" rawio "$iops" ;;
				other)
					! hasg file || record file "$(wname "$w")" other "$iops"
					if hasg file-buffered; then
						record file-buffered "$(wname "$w")" other "$iops"
						[ -z "$plugin_b" ] || record file-buffered-b "$(wname "$w")" other "$iops"
					fi ;;
				esac
			done
			stop
			sync "$data" # nbdkit's file leaves dirty pages: the next variant must not write them back
		done
		hasg mem || continue
		for v in $(order $r mem-rawio mem-rawio-b mem-other); do
			case $v in
			mem-rawio | mem-rawio-b)
				# Pages faulted at open: a lazy mem: zeroes a whole 2 MiB huge page at
				# the first write into it (nbdkit's sparse array allocates 32 KiB pages),
				# and in runs of seconds those first touches were 82% of nbdkit's CPU.
				so=$plugin
				[ $v = mem-rawio ] || so=$plugin_b
				serve $v "$so" dev=mem:1G,prefault=1
				;;
			*) serve mem-nbdkit memory 1G ;;
			esac
			# Both hold data before the rows (one untimed 1M write of the whole
			# device): nbdkit's `memory` answers a read of a never-written block
			# with a memset of its hole (0.6% of its CPU at 4k randread QD 32),
			# rawio's prefaulted mem: copies RAM (12%); the rows measure a RAM
			# disk that holds data, not the sparse array's shortcut.
			fio_nbd "$sock" write 1m 8 --time_based=0 --runtime=0 >/dev/null
			for w in "${workloads[@]}"; do
				set -- $w
				iops=$(fio_nbd "$sock" "$1" "$2" "$3")
				case $v in
				mem-rawio) record mem "$(wname "$w")" rawio "$iops" ;;
				mem-rawio-b) record mem-b "$(wname "$w")" rawio "$iops" ;;
				*)
					record mem "$(wname "$w")" other "$iops"
					[ -z "$plugin_b" ] || record mem-b "$(wname "$w")" other "$iops" ;;
				esac
			done
			stop
		done
	done
	rm -f "$data"
fi

# 2. The cache over the hdd-emulated backing.
cache=$work/cache.img
backing=$work/backing.img
if has cache; then
	for ((r = 1; r <= runs; r++)); do
		if ((r % 2)); then
			order="cache cache-mc null null-mc null-nbdkit backing absorb"
		else
			order="absorb backing null-nbdkit null-mc null cache-mc cache"
		fi
		for v in $order; do
			case $v in
			cache)
				"$rawio" cache format "$cache" "$backing" --size 1g --backing-size 1g --force >/dev/null
				serve cache "$plugin" cache="$cache" backing="$backing" backing-throttle=hdd
				record cache "4k randwrite QD 32" nbd-cache \
					"$(fio_nbd "$sock" randwrite 4k 32 --end_fsync=1)"
				stop
				;;
			cache-mc)
				"$rawio" cache format "$cache" "$backing" --size 1g --backing-size 1g --force >/dev/null
				serve cache "$plugin" cache="$cache" backing="$backing" backing-throttle=hdd
				record cache "4k randwrite QD 32" nbd-cache-mc \
					"$(fio_nbd "$sock" randwrite 4k 8 --numjobs=4 --group_reporting --end_fsync=1)"
				stop
				;;
			null | null-nbdkit)
				# The protocol's ceiling on this machine: the same fio job into a
				# device that does nothing (rawio's null mem:, nbdkit's null).
				if [ $v = null ]; then
					serve null "$plugin" dev=mem:1G,backed=0
				else
					serve null-nbdkit null 1G
				fi
				record cache "4k randwrite QD 32" nbd-$v \
					"$(fio_nbd "$sock" randwrite 4k 32 --end_fsync=1)"
				stop
				;;
			null-mc)
				serve null "$plugin" dev=mem:1G,backed=0
				record cache "4k randwrite QD 32" nbd-null-mc \
					"$(fio_nbd "$sock" randwrite 4k 8 --numjobs=4 --group_reporting --end_fsync=1)"
				stop
				;;
			backing)
				[ -e "$backing" ] || truncate -s 1g "$backing"
				serve backing "$plugin" dev="$backing" throttle=hdd
				record cache "4k randwrite QD 32" nbd-backing \
					"$(fio_nbd "$sock" randwrite 4k 32 --end_fsync=1)"
				stop
				;;
			absorb)
				"$rawio" cache format "$cache" "$backing" --size 1g --backing-size 1g --force >/dev/null
				"$rawio" cache bench absorb "$cache" \
					"$backing" --backing-throttle hdd --threads 32 --bytes 256m --force --json >"$tmp/absorb.json"
				record cache "4k randwrite QD 32" absorb "$(jq '.iops' "$tmp/absorb.json")"
				record cache "4k randwrite QD 32" absorb-backing \
					"$(jq '.backing_rand_iops' "$tmp/absorb.json")"
				;;
			esac
		done
	done
fi

# 3. A filesystem through rawio export --attach.
fsbench() { # variant, then the export's arguments
	local v=$1 dev="" i line
	shift
	mnt=$tmp/mnt
	mkdir -p "$mnt"
	"$rawio" export --attach --socket "$tmp/fs.sock" "$@" >"$tmp/export.out" 2>>"$tmp/export.log" &
	pids+=($!)
	for ((i = 0; i < 200; i++)); do
		line=$(grep '^device: ' "$tmp/export.out" || true)
		[ -n "$line" ] && { dev=${line#device: }; break; }
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$dev" ] || { echo "nbd.sh: rawio export --attach failed:" >&2; cat "$tmp/export.log" >&2; exit 1; }
	mkfs.ext4 -q -F "$dev"
	mount "$dev" "$mnt"
	record fs "ext4 4k randwrite fsync=1" "$v" "$(fio --name=fs --directory="$mnt" \
		--rw=randwrite --bs=4k --size=64m --fsync=1 --runtime="$secs" --time_based \
		--ioengine=psync --output-format=json 2>>"$tmp/fio.log" | jq '.jobs[0].write.iops')"
	umount "$mnt"
	stop # the export tears down loop, nbdfuse and nbdkit on SIGINT
}
if has fs; then
	if [ "$(id -u)" != 0 ] || ! command -v nbdfuse >/dev/null; then
		echo "filesystem step skipped: needs root and nbdfuse"
	else
		for ((r = 1; r <= runs; r++)); do
			if ((r % 2)); then order="cache backing"; else order="backing cache"; fi
			for v in $order; do
				"$rawio" cache format "$cache" "$backing" --size 1g --backing-size 1g --force >/dev/null
				if [ $v = cache ]; then
					fsbench fs-cache "$cache" "$backing" --backing-throttle hdd
				else
					fsbench fs-backing "$backing" --throttle hdd
				fi
			done
		done
	fi
fi
echo "uptime after:  $(uptime)"

# Medians and ratios. A ratio's spread is its per-round values (each round's
# pair ran back to back): the verdict says whether the rounds agree with the
# median's side of the goal ("(spread)": some round fell on the other side).
jq -s -c '
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def rounds(f): group_by(.round)
		| map(map({key: .variant, value: .iops}) | from_entries | f | select(. != null));
	def range: {min: min, max: max};
	group_by([.group, .row]) | map(
		. as $all
		| {group: .[0].group, row: .[0].row}
		+ (group_by(.variant) | map({key: .[0].variant, value: ([.[].iops] | median)})
		   | from_entries)
		+ {runs: (group_by(.variant) | map(length) | min)}
		| . + (if .group == "cache" then
			{x_backing: (.["nbd-cache"] / .["nbd-backing"]),
			 of_absorb: (.["nbd-cache"] / .absorb),
			 mc_of_absorb: (.["nbd-cache-mc"] / .absorb),
			 null_of_absorb: (.["nbd-null"] / .absorb),
			 null_mc_of_absorb: (.["nbd-null-mc"] / .absorb),
			 nbdkit_null_of_absorb: (.["nbd-null-nbdkit"] / .absorb),
			 of_null: (.["nbd-cache"] / .["nbd-null"]),
			 of_absorb_rounds: ($all | rounds(if .absorb then .["nbd-cache"] / .absorb
				else null end) | range),
			 null_of_absorb_rounds: ($all | rounds(if .absorb and .["nbd-null"]
				then .["nbd-null"] / .absorb else null end) | range)}
		elif .group == "fs" then {x_backing: (.["fs-cache"] / .["fs-backing"])}
		else ($all | rounds(if .rawio and .other then .rawio / .other else null end)) as $q
			| {ratio: (.rawio / .other), ratio_rounds: ($q | range),
			   ratio_won: ($q | map(select(. >= 1)) | length), ratio_n: ($q | length)}
		end))[]
' "$results" >"$tmp/medians.jsonl"
# A/B of two plugins (--plugin-b): group G's rawio against G-b's, round by round
# (each round's A and B ran in it, next to each other); as group G-ab.
jq -s -c '
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	map(select(.variant == "rawio")) as $rawio
	| [$rawio[] | select(.group | endswith("-b")) | . as $x | ($x.group | rtrimstr("-b")) as $g
		| {group: $g, row: $x.row, b: $x.iops,
		   a: ([$rawio[] | select(.group == $g and .row == $x.row and .round == $x.round)
			| .iops][0])}
		| select(.a != null)]
	| group_by([.group, .row]) | map(map(.a / .b) as $q
		| {group: "\(.[0].group)-ab", row: .[0].row, a: ([.[].a] | median),
		   b: ([.[].b] | median), ab: ($q | median), ab_rounds: {min: ($q | min), max: ($q | max)},
		   ab_won: ($q | map(select(. >= 1)) | length), ab_n: ($q | length)})[]
' "$results" >>"$tmp/medians.jsonl"
mkdir -p "$(dirname "$json")"
jq -s '.' "$tmp/medians.jsonl" >"$json"
cp "$results" "${json%.json}.runs.jsonl" # every run: group, row, variant, iops, round

echo
if has plugin; then
	printf "%-15s %-19s %8s %8s %6s %-11s %5s %s\n" group row rawio nbdkit ratio "rounds" \
		">= 1" "verdict (>= 1.00x)"
	jq -r 'select(.ratio and (.group | test("^(file|file-buffered|file-nocache|mem)(-b)?$"))) |
		def r2: . * 100 | round / 100;
		[.group, .row, (.rawio | round), (.other | round), (.ratio | r2),
		 "\(.ratio_rounds.min | r2)-\(.ratio_rounds.max | r2)", "\(.ratio_won)/\(.ratio_n)",
		 ((if .ratio >= 1 then "met" else "not met" end)
		  + (if (.ratio_rounds.min < 1) == (.ratio_rounds.max < 1) then ""
		     else " (spread)" end))] | @tsv' \
		"$tmp/medians.jsonl" | while IFS=$'\t' read -r g w a b c d n e; do
		printf "%-15s %-19s %8s %8s %5sx %-11s %5s %s\n" "$g" "$w" "$a" "$b" "$c" "$d" "$n" "$e"
	done
	! hasg file-buffered || echo "file-buffered: rawio buffered=true vs file (both page cache: like for like)"
	! hasg file || echo "file:          rawio (O_DIRECT) vs file (page cache)"
	! hasg file-nocache || echo "file-nocache:  rawio (O_DIRECT) vs file cache=none fadvise=random"
	[ -z "$plugin_b" ] || ! hasg file-nocache ||
		echo "file-nocache-b: --plugin-b $plugin_b (O_DIRECT) vs the same file cache=none runs"
	[ -z "$plugin_b" ] || ! hasg file-buffered ||
		echo "file-buffered-b: --plugin-b (buffered=true) vs the same file runs"
	! hasg mem || echo "mem:           rawio dev=mem:1G,prefault=1 vs memory 1G, both written whole first"
	[ -z "$plugin_b" ] || ! hasg mem ||
		echo "mem-b:         --plugin-b dev=mem:1G,prefault=1 vs the same memory runs"
	echo "rounds: the lowest and highest per-round ratio; >= 1: rounds at or above 1.00x of all;"
	echo "(spread): a round on the other side of 1.00x"
	if [ -n "$plugin_b" ]; then
		echo
		echo "A/B: this build's plugin (A) against --plugin-b (B), per-round A/B of the same rows:"
		printf "%-18s %-19s %8s %8s %6s %-11s %s\n" group row A B "A/B" rounds "A >= B"
		jq -r 'select(.ab) | def r2: . * 100 | round / 100;
			[.group, .row, (.a | round), (.b | round), (.ab | r2),
			 "\(.ab_rounds.min | r2)-\(.ab_rounds.max | r2)", "\(.ab_won)/\(.ab_n)"] | @tsv' \
			"$tmp/medians.jsonl" | while IFS=$'\t' read -r g w a b c d n; do
			printf "%-18s %-19s %8s %8s %5sx %-11s %s\n" "$g" "$w" "$a" "$b" "$c" "$d" "$n"
		done
	fi
fi
if has cache; then
	echo
	echo "cache (hdd backing), 4k randwrite QD 32, IOPS:"
	printf "%10s %12s %10s %12s %12s %12s %10s %16s\n" "NBD cache" "NBD 4 conns" "NBD null" \
		"null 4 conns" "nbdkit null" "NBD backing" "absorb" "absorb's backing"
	jq -r 'select(.group == "cache") | [(.["nbd-cache"] | round), (.["nbd-cache-mc"] | round),
		(.["nbd-null"] | round), (.["nbd-null-mc"] | round), (.["nbd-null-nbdkit"] | round),
		(.["nbd-backing"] | round), (.absorb | round), (.["absorb-backing"] | round)] | @tsv' \
		"$tmp/medians.jsonl" | while IFS=$'\t' read -r a b c d e f g h; do
		printf "%10s %12s %10s %12s %12s %12s %10s %16s\n" "$a" "$b" "$c" "$d" "$e" "$f" "$g" "$h"
	done
	jq -r 'select(.group == "cache") |
		def pc: . * 100 | round;
		"x backing \(.x_backing * 10 | round / 10)x (goal >= 20x: \(if .x_backing >= 20 then "met" else "not met" end))",
		"of absorb \(.of_absorb | pc)% (rounds \(.of_absorb_rounds.min | pc)-\(.of_absorb_rounds.max | pc)%; 4 conns x QD 8: \(.mc_of_absorb | pc)%) (goal >= 50%: \(if .of_absorb >= 0.5 then "met" else "not met" end))",
		"protocol ceiling: NBD null (rawio mem:1G,backed=0) \(.null_of_absorb | pc)% of absorb (rounds \(.null_of_absorb_rounds.min | pc)-\(.null_of_absorb_rounds.max | pc)%), 4 conns x QD 8 \(.null_mc_of_absorb | pc)%, nbdkit null \(.nbdkit_null_of_absorb | pc)%; NBD cache = \(.of_null | pc)% of NBD null"' \
		"$tmp/medians.jsonl"
	echo "NBD null: the same fio job into a device that does nothing (what the protocol carries here)"
fi
if grep -q '"group":"fs"' "$tmp/medians.jsonl"; then
	echo
	printf "%-26s %12s %12s %10s\n" "ext4 via --attach" "cache" "backing" "x backing"
	jq -r 'select(.group == "fs") | [.row, (.["fs-cache"] | round), (.["fs-backing"] | round),
		(.x_backing * 10 | round / 10)] | @tsv' "$tmp/medians.jsonl" |
		while IFS=$'\t' read -r w a b c; do
			printf "%-26s %12s %12s %9sx\n" "$w" "$a" "$b" "$c"
		done
	echo "goal: x backing >= 5x"
fi
echo "JSON: $json; run time $(($(date +%s) - start)) s"
