#!/usr/bin/env bash
# Store put throughput against fio writing the same sizes at the same depth, same target.
#
#   bench/puts.sh [--target DIR|zram] [--runs 3] [--depths 1,4] [--big-count 256]
#                 [--small-count 4000] [--json] [--base PATH]
#
# Rows, each run RUNS times alternating rawio and fio, medians and ratios:
#   4 MiB puts (objects of 4 MiB - 4 KiB in 4 MiB slots: one 4 MiB write each) from D threads,
#     plain against fio 4 MiB sequential write at iodepth D, and --durable (FUA per put)
#     against the same with fio --sync=dsync (O_DSYNC: the same per-write durability);
#   4 KiB puts (4 KiB values in 8 KiB slots) from one thread, plain and --durable, against fio
#     4 KiB writes at QD 1 with fdatasync after each (--fdatasync=1) and with O_DSYNC.
# On a file target the store and fio each get a fresh file in DIR (default var/bench); with
# zram the script makes its own device (removed on exit) and both write to it in turn.
# fio writes zeroes (--zero_buffers) as the fill does, so zram compresses both alike.
# --base PATH: another rawio binary run beside this one in every round (column base), for an
# A/B of a change in the same run.
set -euo pipefail

target=""
runs=3
depths="1,4"
big_count=256
small_count=4000
json=0
base=""
rawio=${RAWIO:-$(dirname "$0")/../build/release/tools/rawio}

while [ $# -gt 0 ]; do
	case $1 in
	--target) target=$2; shift ;;
	--runs) runs=$2; shift ;;
	--depths) depths=$2; shift ;;
	--big-count) big_count=$2; shift ;;
	--small-count) small_count=$2; shift ;;
	--json) json=1 ;;
	--base) base=$2; shift ;;
	-h | --help) sed -n '2,18p' "$0"; exit 0 ;;
	*) echo "puts.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$rawio" ] || { echo "puts.sh: $rawio not built (make build PRESET=release)" >&2; exit 1; }
command -v fio >/dev/null || { echo "puts.sh: needs fio" >&2; exit 1; }
log() { [ $json = 1 ] || echo "$@"; }

zram_n=""
files=()
cleanup() {
	if [ -n "$zram_n" ]; then
		echo 1 >/sys/block/zram$zram_n/reset 2>/dev/null || true
		echo "$zram_n" >/sys/class/zram-control/hot_remove 2>/dev/null || true
	fi
	rm -f "${files[@]}"
}
trap cleanup EXIT

big=$(( 4 << 20 ))
small_slot=8192
need=$(( (big_count + 8) * big ))
if [ "$target" = zram ]; then
	[ "$(id -u)" = 0 ] || { echo "puts.sh: zram needs root" >&2; exit 1; }
	zram_n=$(cat /sys/class/zram-control/hot_add)
	echo $(( need + (64 << 20) )) >/sys/block/zram$zram_n/disksize
	store=/dev/zram$zram_n
	fio_file=$store
else
	dir=${target:-var/bench}
	mkdir -p "$dir"
	store=$dir/puts.img
	fio_file=$dir/puts.fio
	files=("$store" "$fio_file")
fi

median() { tr ' ' '\n' | { grep -v '^$' || true; } | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# rawio: format a fresh store, fill COUNT objects of OBJ bytes from T threads.
rawio_put() { # [bin] slot obj count threads durable(0/1) -> MB/s and puts/s
	local bin=$rawio
	if [ $# = 6 ]; then bin=$1; shift; fi
	local slot=$1 obj=$2 count=$3 t=$4 d=$5 sz=() dur=()
	[ -n "$zram_n" ] || { rm -f "$store"; sz=(--size $(( (count + 8) * slot + (16 << 20) ))); }
	[ "$d" = 1 ] && dur=(--durable)
	"$bin" store format "$store" --slot-size "$slot" --slots $(( count + 4 )) "${sz[@]}" \
		--force >/dev/null
	"$bin" store fill "$store" --count "$count" --obj-size "$obj" --fill-threads "$t" \
		"${dur[@]}" --json | jq -r '"\(.mb_per_s) \(.puts_per_s)"'
}
# fio: BS-byte sequential writes, COUNT of them, at depth QD; MODE plain, dsync or fdatasync.
fio_put() { # bs count qd mode -> MB/s and IOPS
	local bs=$1 count=$2 qd=$3 mode=$4 extra=()
	case $mode in
	dsync) extra=(--sync=dsync) ;;
	fdatasync) extra=(--fdatasync=1) ;;
	esac
	[ -n "$zram_n" ] || rm -f "$fio_file"
	fio --name=put --filename="$fio_file" --direct=1 --rw=write --bs="$bs" --iodepth="$qd" \
		--ioengine=io_uring --size=$(( count * bs )) --offset=$(( 8 << 20 )) --zero_buffers \
		"${extra[@]}" \
		--output-format=json | jq -r '.jobs[0].write | "\(.bw_bytes / 1e6) \(.iops)"'
}

log "== store puts on ${zram_n:+/dev/zram$zram_n}${zram_n:-$store} ($(uname -r), $(nproc) cores, $(date -u '+%F %H:%M') UTC)"
log "   load: $(uptime)"
declare -A a b c
IFS=, read -r -a ds <<<"$depths"
rows=()
for d in "${ds[@]}"; do
	rows+=("big $d 0 plain" "big $d 1 dsync")
done
rows+=("small 1 0 plain" "small 1 1 fdatasync" "small 1 1 dsync")
for ((r = 1; r <= runs; r++)); do
	for row in "${rows[@]}"; do
		read -r kind d dur mode <<<"$row"
		if [ "$kind" = big ]; then
			a[$row]+="$(rawio_put $big $(( big - 4096 )) "$big_count" "$d" "$dur" | cut -d' ' -f1) "
			b[$row]+="$(fio_put $big "$big_count" "$d" "$mode" | cut -d' ' -f1) "
			[ -z "$base" ] || c[$row]+="$(rawio_put "$base" $big $(( big - 4096 )) "$big_count" "$d" "$dur" | cut -d' ' -f1) "
		else
			a[$row]+="$(rawio_put $small_slot 4096 "$small_count" 1 "$dur" | cut -d' ' -f2) "
			b[$row]+="$(fio_put 4096 "$small_count" 1 "$mode" | cut -d' ' -f2) "
			[ -z "$base" ] || c[$row]+="$(rawio_put "$base" $small_slot 4096 "$small_count" 1 "$dur" | cut -d' ' -f2) "
		fi
	done
done

log ""
log "$(printf '%-40s %-34s %10s %10s %7s %10s' rawio fio rawio fio ratio base)"
for row in "${rows[@]}"; do
	read -r kind d dur mode <<<"$row"
	am=$(echo "${a[$row]}" | median)
	bm=$(echo "${b[$row]}" | median)
	cm=$(echo "${c[$row]:-}" | median)
	ratio=$(awk -v x="$am" -v y="$bm" 'BEGIN {printf "%.2f", (y > 0 ? x / y : 0)}')
	if [ "$kind" = big ]; then
		what="4 MiB puts, $d thread(s)$([ "$dur" = 0 ] || echo ', --durable')"
		peer="4 MiB write QD $d$([ "$mode" = plain ] || echo ", $mode")"
		unit=MB/s
	else
		what="4 KiB puts, 1 thread$([ "$dur" = 0 ] || echo ', --durable')"
		peer="4 KiB write QD 1$([ "$mode" = plain ] || echo ", $mode")"
		unit=ops/s
	fi
	if [ $json = 1 ]; then
		jq -cn --arg rawio "$what" --arg fio "$peer" --arg unit "$unit" --arg a "${a[$row]}" \
			--arg b "${b[$row]}" --argjson am "$am" --argjson bm "$bm" --arg cm "$cm" \
			'{rawio: $rawio, fio: $fio, unit: $unit, rawio_median: $am, fio_median: $bm,
			  base_median: (if $cm == "" then null else ($cm | tonumber) end),
			  ratio: (if $bm > 0 then $am / $bm else null end),
			  rawio_runs: ($a | split(" ") | map(select(. != "") | tonumber)),
			  fio_runs: ($b | split(" ") | map(select(. != "") | tonumber))}'
	else
		printf '%-40s %-34s %10.0f %10.0f %7s %10s  (%s)\n' "$what" "$peer" "$am" "$bm" "$ratio" \
			"${cm:--}" "$unit"
	fi
done
