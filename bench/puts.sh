#!/usr/bin/env bash
# Store puts against fio writing the same sizes at the same depth, same target: the put
# table of docs/perf.md ("Puts at the limit") in one command.
#
#   bench/puts.sh [--target DIR|zram] [--runs 3] [--depths 1,4] [--putters 1,4,16]
#                 [--big-count 256] [--small-count 4000] [--durable-count 400]
#                 [--json] [--base PATH]
#
# Rows, each run RUNS times, rawio and fio alternating within every round; medians, ratios:
#   4 MiB puts (objects of 4 MiB - 4 KiB in 4 MiB slots: one 4 MiB write each) from D threads,
#     plain against fio 4 MiB sequential write at iodepth D, and --durable against the same
#     with fio --sync=dsync (O_DSYNC: the same per-write durability);
#   4 KiB puts (4 KiB values in 8 KiB slots) from one thread, plain against fio 4 KiB writes
#     at QD 1, and --durable against fio's write+fdatasync (--fdatasync=1) and O_DSYNC;
#   group commit: 4 KiB --durable puts from P threads (--group-commit auto) against fio's
#     4 KiB write+fdatasync with P jobs (--numjobs, QD 1 each), and, in the same round, the
#     store without group commit (--group-commit off: two FUA writes per put), column no-gc.
#     DURABLE_COUNT x P puts per run.
# On a file target the store and fio each get one file in DIR (default var/bench), written
# with zeroes once (O_DIRECT) and reused by every row: every write lands on allocated,
# written blocks, as fio's laid-out file does. With zram the script makes its own device
# (removed on exit) and both write to it in turn. fio writes zeroes (--zero_buffers) as the
# fill does, so zram compresses both alike.
# --durable rows also run this binary with --barrier fua (column fua: each write with FUA,
# RWF_DSYNC) beside its default (--barrier auto: write + fdatasync where the disk has no FUA
# of its own; `store fill --json` says which, the "barrier" line below): an A/B of the
# two in the same rounds. Like for like: fio's dsync row is one O_DSYNC write per object
# (on a disk without FUA: the write and one flush); a durable put is two ordered durable
# writes (payload, then the 4 KiB header: two flushes). rawio's MB/s counts payload bytes
# (4 MiB - 4 KiB per put), fio's 4 MiB per write.
# Column put-io (and /put-io, rawio over it): fio doing exactly a durable put's I/O, in the
# same rounds: it replays a log of, per object, the payload write and then the 4 KiB header
# write, each made durable with the barrier the store chose (flush: --fdatasync=1; fua:
# O_DSYNC), from D jobs one request at a time (as D putter threads). That is the ceiling of
# the put's protocol on this device; the goal's ratio stays the one against fio's single
# durable write per object (column fio). In the group commit rows put-io is the put's I/O
# without group commit (P jobs): the ceiling of column no-gc.
# --base PATH: another rawio binary run beside this one in every round (column base), for an
# A/B of a change in the same run. The run time is printed at the end.
set -euo pipefail

target=""
runs=3
depths="1,4"
putters="1,4,16"
big_count=256
small_count=4000
durable_count=400
json=0
base=""
rawio=${RAWIO:-$(dirname "$0")/../build/release/tools/rawio}

while [ $# -gt 0 ]; do
	case $1 in
	--target) target=$2; shift ;;
	--runs) runs=$2; shift ;;
	--depths) depths=$2; shift ;;
	--putters) putters=$2; shift ;;
	--big-count) big_count=$2; shift ;;
	--small-count) small_count=$2; shift ;;
	--durable-count) durable_count=$2; shift ;;
	--json) json=1 ;;
	--base) base=$2; shift ;;
	-h | --help) sed -n '2,41p' "$0"; exit 0 ;;
	*) echo "puts.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$rawio" ] || { echo "puts.sh: $rawio not built (make build PRESET=release)" >&2; exit 1; }
command -v fio >/dev/null || { echo "puts.sh: needs fio" >&2; exit 1; }
log() { [ $json = 1 ] || echo "$@"; }
start=$(date +%s)

zram_n=""
files=()
tmp=$(mktemp -d "${TMPDIR:-/tmp}/puts.XXXXXX")
cleanup() {
	rm -rf "$tmp"
	if [ -n "$zram_n" ]; then
		echo 1 >/sys/block/zram$zram_n/reset 2>/dev/null || true
		echo "$zram_n" >/sys/class/zram-control/hot_remove 2>/dev/null || true
	fi
	rm -f "${files[@]}"
}
trap cleanup EXIT

big=$(( 4 << 20 ))
small_slot=8192
IFS=, read -r -a ds <<<"$depths"
IFS=, read -r -a ps <<<"$putters"
max_p=1
for p in "${ps[@]}"; do [ "$p" -le "$max_p" ] || max_p=$p; done
small_need=$(( (small_count > durable_count * max_p ? small_count : durable_count * max_p) + 8 ))
need=$(( (big_count + 8) * big ))
[ $(( small_need * small_slot )) -le "$need" ] || need=$(( small_need * small_slot ))
need=$(( need + (16 << 20) ))
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
	for f in "$store" "$fio_file"; do
		rm -f "$f"
		dd if=/dev/zero of="$f" bs=4M count=$(( need >> 22 )) oflag=direct conv=fsync \
			status=none
	done
fi

median() { tr ' ' '\n' | { grep -v '^$' || true; } | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# rawio: format a store over the written file, fill COUNT objects of OBJ bytes from T threads.
# GROUP: --group-commit's value, or "" for the binary's default (an older one has no such flag).
# BARRIER: --barrier's value, or "" for the binary's default.
rawio_put() { # bin slot obj count threads durable(0/1) group [barrier] -> MB/s and puts/s
	local bin=$1 slot=$2 obj=$3 count=$4 t=$5 d=$6 g=$7 bar=${8:-} dur=()
	[ "$d" = 1 ] && dur=(--durable)
	[ "$d" = 1 ] && [ -n "$g" ] && dur+=(--group-commit "$g")
	[ "$d" = 1 ] && [ -n "$bar" ] && dur+=(--barrier "$bar")
	"$bin" store format "$store" --slot-size "$slot" --slots $(( count + 4 )) --force >/dev/null
	"$bin" store fill "$store" --count "$count" --obj-size "$obj" --fill-threads "$t" \
		"${dur[@]}" --json | jq -r '"\(.mb_per_s) \(.puts_per_s)"'
}
# fio: BS-byte sequential writes, COUNT of them in all, at depth QD from JOBS jobs (each
# its own region); MODE plain, dsync or fdatasync. Group reporting: the jobs' sum.
fio_put() { # bs count qd jobs mode -> MB/s and IOPS
	local bs=$1 count=$2 qd=$3 jobs=$4 mode=$5 extra=() per
	case $mode in
	dsync) extra=(--sync=dsync) ;;
	fdatasync) extra=(--fdatasync=1) ;;
	esac
	per=$(( count / jobs * bs ))
	fio --name=put --filename="$fio_file" --direct=1 --rw=write --bs="$bs" --iodepth="$qd" \
		--ioengine=io_uring --size=$per --offset=$(( 8 << 20 )) --offset_increment=$per \
		--numjobs="$jobs" --group_reporting --zero_buffers "${extra[@]}" \
		--output-format=json | jq -r '.jobs[0].write | "\(.bw_bytes / 1e6) \(.iops)"'
}

# fio doing a durable put's own I/O (like for like with the put's protocol, not only with
# one durable write per object): it replays an I/O log of, per object, the payload (OBJ
# bytes at the slot's start + 4 KiB) and then the 4 KiB header at the slot's start, each
# made durable with the barrier the store chose (flush: a datasync entry after each write,
# as the store's fdatasync; fua: O_DSYNC), JOBS jobs of COUNT / JOBS objects each, one
# request at a time (as a putter thread), each job its own region. MB/s counts OBJ bytes
# per object, as rawio's. (Replay ignores --fdatasync, and options on the command line do
# not reach a job file's jobs: both are in the log and the job file.)
fio_replay() { # obj slot count jobs barrier -> MB/s and objects/s
	local obj=$1 slot=$2 count=$3 jobs=$4 bar=$5 per=$(( $3 / $4 )) j i o ds="" jf
	jf=$tmp/replay.fio
	printf '[global]\ndirect=1\nioengine=io_uring\niodepth=1\nzero_buffers\ngroup_reporting\n' >"$jf"
	if [ "$bar" = flush ]; then
		ds="$fio_file datasync 0 0"
	else
		echo "sync=dsync" >>"$jf"
	fi
	for ((j = 0; j < jobs; j++)); do
		{
			echo "fio version 2 iolog"
			echo "$fio_file add"
			echo "$fio_file open"
			for ((i = 0; i < per; i++)); do
				o=$(( (8 << 20) + (j * per + i) * slot ))
				echo "$fio_file write $(( o + 4096 )) $obj"
				[ -z "$ds" ] || echo "$ds"
				echo "$fio_file write $o 4096"
				[ -z "$ds" ] || echo "$ds"
			done
			echo "$fio_file close"
		} >"$tmp/replay.$j.log"
		printf '[put%d]\nread_iolog=%s\n' "$j" "$tmp/replay.$j.log" >>"$jf"
	done
	fio --output-format=json "$jf" |
		jq -r --argjson obj "$obj" '.jobs[0].write.iops / 2 | "\(. * $obj / 1e6) \(.)"'
}

log "== store puts on ${zram_n:+/dev/zram$zram_n}${zram_n:-$store} ($(uname -r), $(nproc) cores, $(date -u '+%F %H:%M') UTC)"
log "   load: $(uptime)"
"$rawio" store format "$store" --slot-size $small_slot --slots 4 --force >/dev/null
barrier=$("$rawio" store fill "$store" --count 1 --obj-size 4096 --fill-threads 1 --durable \
	--json | jq -r .barrier)
log "   barrier of durable puts (--barrier auto): $barrier"
declare -A a b c n f w
rows=()
for d in "${ds[@]}"; do
	rows+=("big $d 0 plain" "big $d 1 dsync")
done
rows+=("small 1 0 plain" "small 1 1 fdatasync" "small 1 1 dsync")
for p in "${ps[@]}"; do
	rows+=("gc $p 1 fdatasync")
done
for ((r = 1; r <= runs; r++)); do
	for row in "${rows[@]}"; do
		read -r kind d dur mode <<<"$row"
		case $kind in
		big)
			a[$row]+="$(rawio_put "$rawio" $big $(( big - 4096 )) "$big_count" "$d" "$dur" "" | cut -d' ' -f1) "
			b[$row]+="$(fio_put $big "$big_count" "$d" 1 "$mode" | cut -d' ' -f1) "
			[ -z "$base" ] || c[$row]+="$(rawio_put "$base" $big $(( big - 4096 )) "$big_count" "$d" "$dur" "" | cut -d' ' -f1) "
			[ "$dur" = 0 ] || f[$row]+="$(rawio_put "$rawio" $big $(( big - 4096 )) "$big_count" "$d" 1 "" fua | cut -d' ' -f1) "
			[ "$dur" = 0 ] || w[$row]+="$(fio_replay $(( big - 4096 )) $big "$big_count" "$d" "$barrier" | cut -d' ' -f1) "
			;;
		small)
			cnt=$small_count
			[ "$dur" = 0 ] || cnt=$durable_count
			a[$row]+="$(rawio_put "$rawio" $small_slot 4096 "$cnt" 1 "$dur" "" | cut -d' ' -f2) "
			b[$row]+="$(fio_put 4096 "$cnt" 1 1 "$mode" | cut -d' ' -f2) "
			[ -z "$base" ] || c[$row]+="$(rawio_put "$base" $small_slot 4096 "$cnt" 1 "$dur" "" | cut -d' ' -f2) "
			[ "$dur" = 0 ] || f[$row]+="$(rawio_put "$rawio" $small_slot 4096 "$cnt" 1 1 "" fua | cut -d' ' -f2) "
			[ "$dur" = 0 ] || [ "$mode" != fdatasync ] ||
				w[$row]+="$(fio_replay 4096 $small_slot "$cnt" 1 "$barrier" | cut -d' ' -f2) "
			;;
		gc)
			cnt=$(( durable_count * d ))
			a[$row]+="$(rawio_put "$rawio" $small_slot 4096 "$cnt" "$d" 1 auto | cut -d' ' -f2) "
			b[$row]+="$(fio_put 4096 "$cnt" 1 "$d" fdatasync | cut -d' ' -f2) "
			n[$row]+="$(rawio_put "$rawio" $small_slot 4096 "$cnt" "$d" 1 off | cut -d' ' -f2) "
			w[$row]+="$(fio_replay 4096 $small_slot "$cnt" "$d" "$barrier" | cut -d' ' -f2) "
			[ -z "$base" ] || c[$row]+="$(rawio_put "$base" $small_slot 4096 "$cnt" "$d" 1 "" | cut -d' ' -f2) "
			;;
		esac
	done
done

log ""
log "$(printf '%-50s %-38s %10s %10s %6s %8s %6s %8s %8s %8s %6s' rawio fio rawio fio ratio no-gc gc/no \
	fua base put-io /put-io)"
for row in "${rows[@]}"; do
	read -r kind d dur mode <<<"$row"
	am=$(echo "${a[$row]}" | median)
	bm=$(echo "${b[$row]}" | median)
	cm=$(echo "${c[$row]:-}" | median)
	nm=$(echo "${n[$row]:-}" | median)
	fm=$(echo "${f[$row]:-}" | median)
	wm=$(echo "${w[$row]:-}" | median)
	wr=$([ -z "$wm" ] || awk -v x="$am" -v y="$wm" 'BEGIN {printf "%.2f", (y > 0 ? x / y : 0)}')
	ratio=$(awk -v x="$am" -v y="$bm" 'BEGIN {printf "%.2f", (y > 0 ? x / y : 0)}')
	gcr=$([ -z "$nm" ] || awk -v x="$am" -v y="$nm" 'BEGIN {printf "%.2f", (y > 0 ? x / y : 0)}')
	case $kind in
	big)
		what="4 MiB puts, $d thread(s)$([ "$dur" = 0 ] || echo ', --durable')"
		peer="4 MiB write QD $d$([ "$mode" = plain ] || echo ", $mode")"
		unit=MB/s ;;
	small)
		what="4 KiB puts, 1 thread$([ "$dur" = 0 ] || echo ', --durable')"
		peer="4 KiB write QD 1$([ "$mode" = plain ] || echo ", $mode")"
		unit=ops/s ;;
	gc)
		what="4 KiB puts, $d thread(s), --durable, group commit"
		peer="4 KiB write+fdatasync, $d job(s) QD 1"
		unit=ops/s ;;
	esac
	if [ $json = 1 ]; then
		jq -cn --arg rawio "$what" --arg fio "$peer" --arg unit "$unit" --arg a "${a[$row]}" \
			--arg b "${b[$row]}" --argjson am "$am" --argjson bm "$bm" --arg cm "$cm" \
			--arg nm "$nm" --arg n "${n[$row]:-}" --arg fm "$fm" --arg wm "$wm" \
			'{rawio: $rawio, fio: $fio, unit: $unit, rawio_median: $am, fio_median: $bm,
			  base_median: (if $cm == "" then null else ($cm | tonumber) end),
			  no_gc_median: (if $nm == "" then null else ($nm | tonumber) end),
			  fua_median: (if $fm == "" then null else ($fm | tonumber) end),
			  put_io_median: (if $wm == "" then null else ($wm | tonumber) end),
			  ratio: (if $bm > 0 then $am / $bm else null end),
			  rawio_runs: ($a | split(" ") | map(select(. != "") | tonumber)),
			  fio_runs: ($b | split(" ") | map(select(. != "") | tonumber)),
			  no_gc_runs: ($n | split(" ") | map(select(. != "") | tonumber))}'
	else
		printf '%-50s %-38s %10.0f %10.0f %6s %8s %6s %8s %8s %8s %6s  (%s)\n' "$what" "$peer" "$am" \
			"$bm" "$ratio" "$([ -z "$nm" ] && echo - || printf '%.0f' "$nm")" "${gcr:--}" \
			"$([ -z "$fm" ] && echo - || printf '%.0f' "$fm")" \
			"$([ -z "$cm" ] && echo - || printf '%.0f' "$cm")" \
			"$([ -z "$wm" ] && echo - || printf '%.0f' "$wm")" "${wr:--}" "$unit"
	fi
done
log ""
log "   load: $(uptime)"
log "   run time: $(( $(date +%s) - start )) s"
