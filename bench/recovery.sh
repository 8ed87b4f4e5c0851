#!/usr/bin/env bash
# Store recovery benchmark, per slot size, against the device's ceiling in the same run.
#
#   bench/recovery.sh [--slot-size 4k,64k,4m] [--entries N] [--target file,zram|PATH]
#                     [--engines sync,threads,threads:32,aio,uring,auto] [--runs 3]
#                     [--threads 8] [--qd 256] [--json] [--no-fio] [--base PATH]
#   bench/recovery.sh --goals    issue 17's store tables for the quiet pass in one command:
#                     both targets, the three slot sizes, engines sync,threads:32,aio,uring,auto,
#                     3 runs, then bench/puts.sh's put table (its quiet-pass arguments);
#                     prints its run time (about 4-5 minutes on a quiet machine)
#   bench/recovery.sh --auto-goal  issue 15's recovery goal alone: both targets, the three slot
#                     sizes, auto against sync, aio and uring, 5 rounds, no fio ceiling
#
# For each slot size: formats a store of N slots (default 524,288 4 KiB slots, 65,536 of
# 64 KiB, 3,750 of 4 MiB: seed 000's HC-SSD case, a sparse 15 GiB file), fills every slot
# with an empty object, then recovers it read-only with each engine, RUNS times, alternating
# engines (threads:N is the threads engine with N workers; plain threads has --threads), and
# reports the median recovery time, the header rate, its CPU cost (headers/s per core) and
# the open broken down by phase. The ceiling is measured on the same target in the same run,
# the way recovery reads:
#   4 KiB slots: every byte is a header, so fio's 1 MiB sequential read bandwidth (QD 16)
#                / 4 KiB;
#   larger:      only the header blocks, so fio reading exactly those offsets (rw=read:<skip>,
#                4 KiB at a stride of one slot) at QD 256;
# each the better of fio's io_uring and libaio engines, run before and after the engines
# (the mean of the two), for 3 s (time-based: the range may be read more than once). Beside
# it, "one pass": the same fio reading exactly the bytes recovery reads, once (not time-based),
# so a first pass's cold start counts as it does for recovery; %1p is the best engine against it.
# Targets (comma-separated, default file,zram): "file" is var/bench/recovery.img (a sparse
# file on the build tree's filesystem, removed after), "zram" a zram device the script makes
# and removes on exit (skipped without root), or any file or block device.
# Per slot size the table ends with the goals' lines: the best fixed engine's % of the ceiling
# (issue 17: >= 90%) and auto against the best fixed engine (issue 15: >= 1.00): the ratio of
# the medians of whole recoveries, each round's ratio (auto and that engine ran in the same
# round) and their median.
# --base PATH: another rawio binary (say, main's) run right after each engine as row E/base,
# for an A/B of a change in the same run.
# With --json, one line per (slot size, engine).
set -euo pipefail

slot_sizes="4k,64k,4m"
entries=""
targets="file,zram"
engines="sync,threads,threads:32,aio,uring,auto"
runs=3
threads=8
qd=256
json=0
fio_cmp=1
base=""
goals=0
rawio=${RAWIO:-$(dirname "$0")/../build/release/tools/rawio}

while [ $# -gt 0 ]; do
	case $1 in
	--slot-size) slot_sizes=$2; shift ;;
	--entries) entries=$2; shift ;;
	--target) targets=$2; shift ;;
	--engines) engines=$2; shift ;;
	--runs) runs=$2; shift ;;
	--threads) threads=$2; shift ;;
	--qd) qd=$2; shift ;;
	--json) json=1 ;;
	--no-fio) fio_cmp=0 ;;
	--base) base=$2; shift ;;
	--no-put) ;; # puts moved to bench/puts.sh; accepted for old command lines
	--goals) goals=1 engines="sync,threads:32,aio,uring,auto" runs=3 ;;
	--auto-goal) engines="sync,aio,uring,auto" runs=5 fio_cmp=0 ;;
	-h | --help) sed -n '2,38p' "$0"; exit 0 ;;
	*) echo "recovery.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$rawio" ] || { echo "recovery.sh: $rawio not built (make build PRESET=release)" >&2; exit 1; }
command -v jq >/dev/null || { echo "recovery.sh: needs jq" >&2; exit 1; }
log() { [ $json = 1 ] || echo "$@"; }
start=$(date +%s)

bytes() { # 4k, 64K, 4m, 4096 -> bytes
	local v=${1,,}
	case $v in
	*k) echo $(( ${v%k} << 10 )) ;;
	*m) echo $(( ${v%m} << 20 )) ;;
	*g) echo $(( ${v%g} << 30 )) ;;
	*) echo "$v" ;;
	esac
}
default_entries() {
	case $1 in
	4096) echo 524288 ;;
	65536) echo 65536 ;;
	*) echo 3750 ;;
	esac
}
store_bytes() { # slot size, slots
	echo $(( $2 * $1 + 2 * (4096 + $2 * 64) + (8 << 20) ))
}

IFS=, read -r -a sizes <<<"$slot_sizes"
IFS=, read -r -a engs <<<"$engines"
if [ -n "$base" ]; then
	[ -x "$base" ] || { echo "recovery.sh: --base $base is not an executable" >&2; exit 1; }
	ab=()
	for e in "${engs[@]}"; do ab+=("$e" "$e/base"); done
	engs=("${ab[@]}")
fi

zram_n=""
made_file=""
cleanup() {
	if [ -n "$zram_n" ]; then
		echo 1 >/sys/block/zram$zram_n/reset 2>/dev/null || true
		echo "$zram_n" >/sys/class/zram-control/hot_remove 2>/dev/null || true
	fi
	if [ -n "$made_file" ]; then rm -f "$made_file"; fi
	zram_n="" made_file=""
}
trap cleanup EXIT

# setup_target NAME: sets target and fmt_size (1: a file the script sizes per slot size).
setup_target() {
	fmt_size=1
	case $1 in
	zram)
		if [ "$(id -u)" != 0 ] || [ ! -e /sys/class/zram-control/hot_add ]; then
			echo "recovery.sh: zram needs root and zram-control; skipped" >&2
			return 1
		fi
		local max=0 b n sb
		for sz in "${sizes[@]}"; do
			b=$(bytes "$sz")
			n=${entries:-$(default_entries "$b")}
			sb=$(store_bytes "$b" "$n")
			[ "$sb" -le "$max" ] || max=$sb
		done
		zram_n=$(cat /sys/class/zram-control/hot_add)
		echo $(( max + (64 << 20) )) >/sys/block/zram$zram_n/disksize
		target=/dev/zram$zram_n
		fmt_size=0
		;;
	file)
		mkdir -p var/bench
		target=var/bench/recovery.img
		made_file=$target
		;;
	*)
		target=$1
		[ ! -b "$target" ] || fmt_size=0
		;;
	esac
}

median() { tr ' ' '\n' | { grep -v '^$' || true; } | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

IFS=, read -r -a tlist <<<"$targets"
for tname in "${tlist[@]}"; do
setup_target "$tname" || continue
	log "== store recovery on $target ($(uname -r), $(nproc) cores, $(date -u '+%F %H:%M') UTC, recovery QD $qd)"
	log "   load: $(uptime)"
	for sz in "${sizes[@]}"; do
		slot=$(bytes "$sz")
		n=${entries:-$(default_entries "$slot")}
		sb=$(store_bytes "$slot" "$n")
		size_opt=()
		if [ $fmt_size = 1 ]; then
			rm -f "$target"
			size_opt=(--size "$sb")
		fi
		"$rawio" store format "$target" --slot-size "$slot" --slots "$n" "${size_opt[@]}" --force >/dev/null
		fill=$("$rawio" store fill "$target" --count "$n" --fill-threads 8 --json)
		stat=$("$rawio" store stat "$target" --json)
		data_off=$(echo "$stat" | jq .data_off)
		log ""
		log "-- $n slots of $slot bytes ($(( n * slot >> 20 )) MiB of slots, data at $data_off)"
		log "fill: $(echo "$fill" | jq -r '"\(.puts) puts in \(.seconds | .*100 | round / 100) s"'); index: $(echo "$stat" | jq -r '"\(.index_bytes) bytes = \(.index_bytes / .slot_count * 10 | round / 10) bytes/slot"')"

		# The ceiling, measured the way recovery reads, before and after the engines (the mean of the two).
		ceiling() { # [pass] -> the better of fio's io_uring and libaio (on zram io_uring punts to io-wq)
			local best=0 v eng tb=(--runtime=3 --time_based)
			[ "${1:-}" != pass ] || tb=()
			for eng in io_uring libaio; do
				if [ "$slot" = 4096 ]; then
					v=$(fio --name=ceiling --filename="$target" --direct=1 --rw=read --bs=1M \
						--iodepth=16 --ioengine=$eng "${tb[@]}" \
						--size=$(( n * slot )) --offset="$data_off" --output-format=json |
						jq '.jobs[0].read.bw_bytes / 4096 | round')
				else
					v=$(fio --name=ceiling --filename="$target" --direct=1 \
						--rw=read:$(( slot - 4096 )) --bs=4k --iodepth=256 --ioengine=$eng \
						"${tb[@]}" --size=$(( n * slot )) --offset="$data_off" \
						--output-format=json | jq '.jobs[0].read.iops | round')
				fi
				[ "$v" -le "$best" ] || best=$v
			done
			echo "$best"
		}
		ceil="" pass=""
		if [ $fio_cmp = 1 ] && command -v fio >/dev/null; then
			ceil="$(ceiling) "
			pass="$(ceiling pass) "
		fi

		declare -A secs=() read_secs=() cpu_secs=() open_secs=() phases=() dropped=() picked=()
		for ((r = 1; r <= runs; r++)); do
			for e in "${engs[@]}"; do
				bin=$rawio
				en=$e
				if [ "${e%/base}" != "$e" ]; then bin=$base; en=${e%/base}; fi
				name=${en%%:*}
				nt=$threads
				[ "$name" = "$en" ] || nt=${en#*:}
				out=$("$bin" store recover "$target" --engine "$name" --threads "$nt" \
					--qd "$qd" --read-only --json)
				secs[$e]+="$(echo "$out" | jq .seconds) "
				read_secs[$e]+="$(echo "$out" | jq .read_seconds) "
				cpu_secs[$e]+="$(echo "$out" | jq '.read_cpu_seconds // 0') "
				open_secs[$e]+="$(echo "$out" | jq '.open_seconds // 0') "
				phases[$e]=$(echo "$out" | jq -c '{super: .super_seconds, index: .index_seconds,
					checkpoint: .checkpoint_seconds, checkpoint_cpu: .checkpoint_cpu_seconds,
					read: .read_seconds, read_cpu: .read_cpu_seconds, roll: .roll_seconds}')
				dropped[$e]=$(echo "$out" | jq '.dropped_mismatch + .dropped_corrupt + .dropped_io')
				# What auto read the headers with ("auto:sync"), else what it would choose.
				picked[$e]=$(echo "$out" | jq -r 'if (.engine | startswith("auto:")) then
					.engine[5:] else (.engine_auto // empty) end')
				got=$(echo "$out" | jq .entries)
				[ "$got" = "$n" ] || { echo "recovery.sh: $e recovered $got of $n" >&2; exit 1; }
			done
		done
		if [ $fio_cmp = 1 ] && command -v fio >/dev/null; then
			pass+="$(ceiling pass)"
			ceil+="$(ceiling)"
		fi
		mean() { tr ' ' '\n' | { grep -v '^$' || true; } | awk '{s+=$1} END {if (NR) printf "%.0f", s / NR}'; }
		ceil_med=$(echo "$ceil" | mean)
		pass_med=$(echo "$pass" | mean)

		sync_med=$(echo "${secs[sync]:-}" | median)
		log "ceiling (fio, $( [ "$slot" = 4096 ] && echo '1 MiB sequential read QD 16 / 4 KiB' || echo "4 KiB every $slot bytes, QD 256")): ${ceil_med:--} headers/s (runs: ${ceil:--}); one pass: ${pass_med:--} (runs: ${pass:--})"
		log "$(printf '%-11s %9s %9s %12s %7s %14s %8s %7s' engine open_s read_s headers/s %ceil 'hdr/s/core' vs_sync dropped)"
		for e in "${engs[@]}"; do
			m=$(echo "${secs[$e]}" | median)
			om=$(echo "${open_secs[$e]}" | median)
			rm_=$(echo "${read_secs[$e]}" | median)
			cm=$(echo "${cpu_secs[$e]}" | median)
			rate=$(awk -v n="$n" -v s="$rm_" 'BEGIN {printf "%.0f", (s > 0 ? n / s : 0)}')
			pc=$(awk -v r="$rate" -v c="${ceil_med:-0}" 'BEGIN {if (c > 0) printf "%.0f", 100 * r / c; else print "-"}')
			per_core=$(awk -v n="$n" -v c="$cm" 'BEGIN {if (c > 0) printf "%.0f", n / c; else print "-"}')
			sp=$(awk -v a="${sync_med:-0}" -v b="$m" 'BEGIN {if (a > 0) printf "%.2f", a / b; else print "-"}')
			if [ $json = 1 ]; then
				jq -cn --argjson slot "$slot" --arg engine "$e" --argjson entries "$n" \
					--argjson seconds "$m" --argjson open_seconds "$om" \
					--argjson read_seconds "$rm_" --argjson read_cpu_seconds "$cm" \
					--argjson dropped "${dropped[$e]}" --arg speedup "$sp" \
					--arg ceiling "${ceil_med:-}" --arg pass "${pass_med:-}" \
					--argjson phases "${phases[$e]}" \
					--arg runs "${secs[$e]}" --arg qd "$qd" --arg target "$tname" \
				--arg picked "${picked[$e]:-}" \
					'{target: $target, slot_size: $slot, engine: $engine,
				  engine_auto: (if $picked == "" then null else $picked end), qd: ($qd | tonumber), entries: $entries,
					  seconds: $seconds, open_seconds: $open_seconds, read_seconds: $read_seconds,
					  headers_per_s: (if $read_seconds > 0 then $entries / $read_seconds | round else null end),
					  read_cpu_seconds: $read_cpu_seconds,
					  headers_per_cpu_s: (if $read_cpu_seconds > 0 then $entries / $read_cpu_seconds | round else null end),
					  ceiling_headers_per_s: (if $ceiling == "" then null else ($ceiling | tonumber) end),
					  ceiling_one_pass_headers_per_s: (if $pass == "" then null else ($pass | tonumber) end),
					  dropped: $dropped, phases_last_run: $phases,
					  speedup: (if $speedup == "-" then null else ($speedup | tonumber) end),
					  runs: ($runs | split(" ") | map(select(. != "") | tonumber))}'
			else
				printf '%-11s %9.4f %9.4f %12s %7s %14s %8s %7s\n' "$e" "$om" "$rm_" "$rate" "$pc" \
					"$per_core" "$sp" "${dropped[$e]}"
			fi
		done
		for e in "${engs[@]}"; do
			log "  $e phases of the last open (s): ${phases[$e]}"
		done
		# The goals: the best fixed engine's header rate against the ceiling (issue 17), and
		# auto's whole recovery against the best fixed engine's (issue 15).
		best="" best_rate=0 best_s="" auto_s=""
		for e in "${engs[@]}"; do
			case $e in */base) continue ;; esac
			m=$(echo "${secs[$e]}" | median)
			if [ "$e" = auto ]; then auto_s=$m; continue; fi
			rm_=$(echo "${read_secs[$e]}" | median)
			rate=$(awk -v n="$n" -v s="$rm_" 'BEGIN {printf "%.0f", (s > 0 ? n / s : 0)}')
			[ "$rate" -le "$best_rate" ] || { best=$e best_rate=$rate; }
			if [ -z "$best_s" ] || awk -v a="$m" -v b="$best_s" 'BEGIN {exit !(a < b)}'; then
				best_s=$m best_s_e=$e
			fi
		done
		if [ $json = 0 ] && [ -n "$best" ]; then
			log "goal (issue 17, >= 90%): best engine $best $best_rate headers/s = $(awk -v r="$best_rate" \
				-v c="${ceil_med:-0}" 'BEGIN {if (c > 0) printf "%.0f%%", 100 * r / c; else print "-"}') of the ceiling, $(awk -v r="$best_rate" \
				-v c="${pass_med:-0}" 'BEGIN {if (c > 0) printf "%.0f%%", 100 * r / c; else print "-"}') of one pass"
			# Within a round auto and the best fixed engine ran minutes apart at most, so
			# the median of the rounds' ratios is what the load moves least; the ratio of
			# the medians and every round's ratio beside it show the spread.
			[ -z "$auto_s" ] || log "goal (issue 15, >= 1.00): auto (opened ${picked[auto]:-?}) ${auto_s} s," \
				"best fixed $best_s_e ${best_s} s: $(awk -v a="$auto_s" -v b="$best_s" \
				'BEGIN {printf "%.2f", (a > 0 ? b / a : 0)}')x; per round $(paste -d' ' \
				<(tr ' ' '\n' <<<"${secs[$best_s_e]}" | grep -v '^$') \
				<(tr ' ' '\n' <<<"${secs[auto]}" | grep -v '^$') |
				awk '$2 > 0 {printf "%s%.2f", (NR > 1 ? " " : ""), $1 / $2}'), median $(paste -d' ' \
				<(tr ' ' '\n' <<<"${secs[$best_s_e]}" | grep -v '^$') \
				<(tr ' ' '\n' <<<"${secs[auto]}" | grep -v '^$') |
				awk '$2 > 0 {printf "%.4f\n", $1 / $2}' | median | xargs printf '%.2f')x"
		fi
		unset secs read_secs cpu_secs open_secs phases dropped picked
	done
cleanup
done
[ $goals = 1 ] || log "recovery.sh: run time $(( $(date +%s) - start )) s"
if [ $goals = 1 ]; then
	log ""
	pj=()
	[ $json = 0 ] || pj=(--json)
	RAWIO=$rawio "$(dirname "$0")/puts.sh" --runs 3 --depths 1,4 --putters 1,4,16 --big-count 64 \
		--small-count 1000 --durable-count 100 "${pj[@]}"
	log "recovery.sh --goals: run time $(( $(date +%s) - start )) s"
fi
