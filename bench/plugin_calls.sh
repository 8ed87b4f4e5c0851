#!/usr/bin/env bash
# The NBD plugin's own cost per request, without nbdkit and the protocol (issue 14;
# frontends/nbdkit/plugin_calls.c): rawio's plugin (and with --plugin-b, a second build of it,
# e.g. main's) against nbdkit's `file` plugin on one file.
#
#   bench/plugin_calls.sh [--build DIR] [--plugin-b SO] [--rounds N] [--threads "1 16"]
#                         [--seconds S] [--dir DIR] [--no-callgrind] [--no-cpu]
#                         [--dwrite BS [--dwrite-threads N]]
#
# 1. CPU per call: 4 KiB reads of a cached 256 MiB file (rawio buffered=true, nbdkit file),
#    THREADS threads for S seconds (default 2), N rounds (default 10) in rotating order;
#    medians of the total and of the user CPU per call (the kernel's pread is the same for
#    every plugin: the plugin's own cost is user time).
# 2. User instructions per call (valgrind --tool=callgrind, only inside plugin_calls' worker:
#    the plugin, librawio and libc): 4 KiB read and write, one thread, buffered and O_DIRECT,
#    on a 16 MiB file: deterministic where CPU time on a shared machine is not.
# 3. With --dwrite BS (e.g. 1048576): bounced O_DIRECT writes of BS bytes at random
#    BS-aligned offsets of a written 1 GiB file under DIR, N threads (default 8: fio's QD 8
#    in bench/nbd.sh's 1m write row), S seconds, the rounds alternating A and B (rawio's
#    plugins only: nbdkit's file has no O_DIRECT); medians of calls/s, and the disk's
#    average write request over each run from /sys/block/DISK/stat (DISK holds DIR; other
#    writers on that disk count too: read it beside `uptime`).
# --no-cpu: skip part 1.
# About 4.5 minutes with the defaults and --plugin-b (not measured quiet; it prints its run time).
set -euo pipefail

build=build/release
plugin_b=""
rounds=10
threads="1 16"
secs=2
dir=var/plugin-calls
cg=1
cpu=1
dwrite=""
dthreads=8
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift ;;
	--plugin-b) plugin_b=$(realpath "$2"); shift ;;
	--rounds) rounds=$2; shift ;;
	--threads) threads=$2; shift ;;
	--seconds) secs=$2; shift ;;
	--dir) dir=$2; shift ;;
	--no-callgrind) cg=0 ;;
	--no-cpu) cpu=0 ;;
	--dwrite) dwrite=$2; shift ;;
	--dwrite-threads) dthreads=$2; shift ;;
	-h | --help) sed -n '2,25p' "$0"; exit 0 ;;
	*) echo "plugin_calls.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
pcbin=$build/frontends/nbdkit/plugin_calls
plugin=$(realpath "$build/frontends/nbdkit/nbdkit-rawio-plugin.so" 2>/dev/null || true)
filep=$(pkg-config --variable=plugindir nbdkit)/nbdkit-file-plugin.so
[ -x "$pcbin" ] && [ -f "$plugin" ] || { echo "plugin_calls.sh: not built in $build" >&2; exit 1; }
[ -f "$filep" ] || { echo "plugin_calls.sh: no $filep" >&2; exit 1; }
[ $cg = 0 ] || command -v valgrind >/dev/null || { echo "plugin_calls.sh: needs valgrind" >&2; exit 1; }
start=$(date +%s)
mkdir -p "$dir"
work=$(mktemp -d "$dir/run.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

variants="a file"
[ -z "$plugin_b" ] || variants="a b file"
# pc VARIANT HOW THREADS SECONDS MODE [WRAPPER...]: plugin_calls on $f, $pcbs bytes a call;
# HOW buffered or direct (nbdkit's file is always buffered).
pc() {
	local v=$1 how=$2 th=$3 s=$4 mode=$5 so p=()
	shift 5
	case $v in
	a) so=$plugin p=("dev=$f") ;;
	b) so=$plugin_b p=("dev=$f") ;;
	file) so=$filep p=("file=$f") ;;
	esac
	[ $v = file ] || [ "$how" != buffered ] || p+=(buffered=true)
	"$@" "$pcbin" "$so" "$th" "$s" "$mode" "$pcbs" "${p[@]}"
}
pcbs=4096
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

echo "== bench/plugin_calls.sh ($(uname -r), $(nproc) cores, $(date -u +%F)); a = $plugin${plugin_b:+, b = $plugin_b}"
f=$work/big.img
truncate -s 256M "$f"
res=$work/cpu.txt
: >"$res"
[ $cpu = 1 ] || threads=""
for th in $threads; do
	for ((r = 1; r <= rounds; r++)); do
		echo "threads $th round $r: $(uptime)"
		set -- $variants
		for ((i = 1; i < r; i++)); do set -- "${@:2}" "$1"; done # rotate
		for v in "$@"; do
			pc $v buffered "$th" "$secs" fillread |
				sed -n "s/.*B: [0-9]* calls\/s, \([0-9]*\) ns CPU per call (\([0-9]*\) user)/$th $v \1 \2/p" >>"$res"
		done
	done
done
[ $cpu = 0 ] || echo
[ $cpu = 0 ] || echo "CPU per 4 KiB read of a cached file, ns, medians of $rounds rounds (total / user):"
for th in $threads; do
	line="threads $th:"
	for v in $variants; do
		line="$line  $v $(awk -v t="$th" -v v=$v '$1 == t && $2 == v {print $3}' "$res" | median)"
		line="$line / $(awk -v t="$th" -v v=$v '$1 == t && $2 == v {print $4}' "$res" | median)"
	done
	echo "$line"
done

if [ $cg = 1 ]; then
	echo
	echo "user instructions per 4 KiB call (callgrind, 1 thread, inside plugin_calls' worker):"
	f=$work/small.img
	truncate -s 16M "$f"
	for mode in read write; do
		for how in buffered direct; do
			line="$mode $how:"
			for v in $variants; do
				[ $v != file ] || [ $how = buffered ] || continue
				pc $v $how 1 1 $mode valgrind --tool=callgrind --callgrind-out-file="$work/cg" \
					--toggle-collect=worker >/dev/null 2>&1
				# calls: libc's pread/pwrite runs 24 instructions per call
				line="$line  $v $(callgrind_annotate "$work/cg" 2>/dev/null | awk '
					{gsub(",", "", $1)}
					/PROGRAM TOTALS/ {t = $1}
					/pread64.c:pread |pwrite64.c:pwrite / {c += $1}
					END {printf "%d", c ? t * 24 / c : 0}')"
			done
			echo "$line"
		done
	done
fi
if [ -n "$dwrite" ]; then
	# The disk under DIR (a partition's parent), whose stat counts write requests.
	disk=$(lsblk -no pkname "$(df --output=source "$dir" | tail -1)" 2>/dev/null || true)
	[ -n "$disk" ] || disk=$(basename "$(df --output=source "$dir" | tail -1)")
	wstat() { awk '{print $5, $7}' "/sys/block/$disk/stat"; } # write requests, sectors
	f=$work/dwrite.img
	pcbs=$dwrite
	fallocate -l 1g "$f"
	dd if=/dev/zero of="$f" bs=1M count=1024 oflag=direct conv=notrunc status=none
	res=$work/dwrite.txt
	: >"$res"
	dv="a"
	[ -z "$plugin_b" ] || dv="a b"
	echo
	for ((r = 1; r <= rounds; r++)); do
		echo "dwrite round $r: $(uptime)"
		set -- $dv
		((r % 2)) || set -- $(echo "$dv" | awk '{for (i = NF; i; i--) printf "%s ", $i}')
		for v in "$@"; do
			read -r w0 s0 < <(wstat)
			out=$(pc $v direct "$dthreads" "$secs" write)
			read -r w1 s1 < <(wstat)
			echo "$v $(echo "$out" | sed -n 's/.*B: \([0-9]*\) calls\/s.*/\1/p') $(((s1 - s0) / 2 / (w1 - w0 > 0 ? w1 - w0 : 1)))" >>"$res"
		done
	done
	echo "O_DIRECT writes of $dwrite B from $dthreads threads (bounced), medians of $rounds rounds:"
	for v in $dv; do
		echo "  $v: $(awk -v v=$v '$1 == v {print $2}' "$res" | median) calls/s, disk write" \
			"request $(awk -v v=$v '$1 == v {print $3}' "$res" | median) KiB (/sys/block/$disk/stat)"
	done
	echo "  per round (variant calls/s KiB): $(tr '\n' ';' <"$res")"
fi
echo "run time $(($(date +%s) - start)) s"
