#!/usr/bin/env bash
# rawio bench side by side with fio: the same job on the same target, fio and rawio
# alternating REPS times per row (A B, B A, A B, ...); prints medians and rawio/fio ratios.
#
# usage: bench/vs-fio.sh [--quick] [--target PATH|file|zram]... [--json] [--rawio BIN]
#                        [--reps N] [--runtime S] [--ramp S] [--size SIZE] [--out DIR]
#                        [--engines "sync aio uring"] [--no-auto]
#   --quick     2 s runs after a 1 s ramp (default 10 s after 2 s), 3 repetitions
#   --target    "file": a file under DIR (on the filesystem of the build tree, e.g. ext4
#               on /work); "zram": a zram device of its own (hot_add, 2G; hot_remove on exit);
#               or any file or block device. Default: file and zram.
#   --json      one JSON array of rows on stdout instead of the table
#   --out DIR   runs, summary (vs-fio.tsv) and target file go here (default build/bench)
#   --from TSV  no runs: summarize a runs.tsv written before
#   --idle-wait S  before each fio/rawio pair, wait up to S seconds (default 20; 0: never) for
#               the machine to be idle (under 20% CPU busy over half a second), so a burst of
#               someone else's work lands on neither tool rather than on one of them
#   --rows LIST only these rows, comma-separated RW:BS:QD (e.g. randread:4k:32,randwrite:4k:32);
#               default: randread 4k at QD 1, 32 and 128, randwrite 4k QD 32, read 128k QD 8
#   --no-auto   skip the auto table: after each phase's rows, rawio's `--engine auto` runs
#               each row alternating with every fixed engine that runs it (rawio only, REPS
#               rounds, order rotating), and the second table gives auto / the best fixed
#               engine (issue 15's goal: >= 0.95 on every row) and the engine auto opened
# Every run's JSON is kept under DIR/runs/. Needs fio, jq, and root for zram.
# A benchmark, never a test: it exits 0 whatever the numbers are.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
rawio=${RAWIO:-$root/build/release/tools/rawio}
out=$root/build/bench
quick=0 json=0 reps=3 runtime=10 ramp=2 size=1G from="" idle_wait=20
engines="sync aio uring"
auto=1
rows_opt=""
targets=()

while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; runtime=2; ramp=1 ;;
	--target) targets+=("$2"); shift ;;
	--json) json=1 ;;
	--rawio) rawio=$2; shift ;;
	--reps) reps=$2; shift ;;
	--runtime) runtime=$2; shift ;;
	--ramp) ramp=$2; shift ;;
	--size) size=$2; shift ;;
	--out) out=$2; shift ;;
	--engines) engines=$2; shift ;;
	--no-auto) auto=0 ;;
	--rows) rows_opt=$2; shift ;;
	--from) from=$2; shift ;;
	--idle-wait) idle_wait=$2; shift ;;
	-h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "vs-fio.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ ${#targets[@]} -gt 0 ] || [ -n "$from" ] || targets=(file zram)

log() { echo "vs-fio: $*" >&2; }
for t in fio jq; do
	command -v $t >/dev/null || { log "needs $t"; exit 1; }
done
[ -x "$rawio" ] || { log "no rawio binary at $rawio (make build, or --rawio BIN)"; exit 1; }
fio_version=$(fio --version)
[ "$fio_version" = fio-3.33 ] || log "fio is $fio_version, the table in docs/perf.md used fio-3.33"

mkdir -p "$out/runs"
out=$(cd "$out" && pwd)
runs=$out/runs.tsv
auto_runs=$out/auto-runs.tsv
if [ -n "$from" ]; then
	[ "$from" -ef "$runs" ] || cp "$from" "$runs"
	targets=()
	[ -f "$(dirname "$from")/auto-runs.tsv" ] && ! [ "$(dirname "$from")/auto-runs.tsv" -ef "$auto_runs" ] &&
		cp "$(dirname "$from")/auto-runs.tsv" "$auto_runs"
else
	: >"$runs"
	: >"$auto_runs"
fi

zram_n="" zram_fd=""
zram_release() {
	[ -n "$zram_fd" ] && exec {zram_fd}<&-
	zram_fd=""
	if [ -n "$zram_n" ]; then
		echo "$zram_n" >/sys/class/zram-control/hot_remove 2>/dev/null || true
		zram_n=""
	fi
}
cleanup() {
	zram_release
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fill PATH: write SIZE bytes of random data (fio's layout), so reads find real blocks.
fill() {
	fio --name=layout --filename="$1" --size="$size" --rw=write --bs=1M --direct=1 \
		--ioengine=libaio --iodepth=8 --output=/dev/null
}

# setup_target NAME: echo the path to run on (empty: skip it).
setup_target() {
	case $1 in
	file)
		local f=$out/target.img
		local want
		want=$(numfmt --from=iec "$size")
		if [ ! -f "$f" ] || [ "$(stat -c %s "$f")" -lt "$want" ]; then
			log "laying out $f ($size)"
			fill "$f"
		fi
		echo "$f"
		;;
	zram)
		# Called in $(...): the device number goes to a file the caller reads.
		if [ "$(id -u)" -ne 0 ] || [ ! -e /sys/class/zram-control/hot_add ]; then
			log "zram: needs root and zram-control; skipped"
			return 0
		fi
		local n
		n=$(cat /sys/class/zram-control/hot_add)
		echo "$n" >"$out/zram.dev"
		echo 2G >/sys/block/zram$n/disksize
		log "zram: /dev/zram$n 2G, filling $size with random data"
		fill /dev/zram$n
		echo /dev/zram$n
		;;
	*)
		[ -e "$1" ] || { log "$1: no such file"; return 0; }
		echo "$1"
		;;
	esac
}

# cpu_busy_pct: percent of all CPUs busy over the next half second (from /proc/stat).
cpu_busy_pct() {
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
	sleep 0.5
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
		busy = y[1] - x[1]; idle = y[2] - x[2]
		print (busy + idle > 0) ? int(100 * busy / (busy + idle)) : 0 }'
}

# idle_gate: wait (up to --idle-wait seconds) for the machine to be idle.
idle_gate() {
	local t0=$SECONDS
	[ "$idle_wait" -gt 0 ] || return 0
	while [ "$(cpu_busy_pct)" -ge 20 ]; do
		if [ $((SECONDS - t0)) -ge "$idle_wait" ]; then
			log "machine still busy after ${idle_wait}s; running anyway"
			return 0
		fi
	done
}

fio_engine() {
	case $1 in
	sync) echo psync ;;
	aio) echo libaio ;;
	uring) echo io_uring ;;
	*) echo "$1" ;;
	esac
}

# Writes carry zeroes in both tools: zram's cost per page depends on the data (fio 3.33's
# random buffers cost its compressor several times what rawio's do), and only zeroes are the
# same bytes in both. A zero page is zram's cheapest write: what remains is the I/O path.
zero_fio() { case $1 in *write* | rw | randrw) echo --zero_buffers ;; esac; }
zero_rawio() { case $1 in *write* | rw | randrw) echo --zero-buffers ;; esac; }

# run_fio PATH ENGINE RW BS QD JSONFILE
run_fio() {
	# shellcheck disable=SC2046
	fio --name=vs --filename="$1" --ioengine="$(fio_engine "$2")" --direct=1 --rw="$3" \
		--bs="$4" --iodepth="$5" --size="$size" --runtime="$runtime" --ramp_time="$ramp" \
		--time_based --numjobs=1 $(zero_fio "$3") --output-format=json >"$6"
	# iops, CPU ns per I/O, context switches (fio's usr/sys_cpu are % of job_runtime ms)
	jq -r '.jobs[0] | (.read.total_ios + .write.total_ios) as $n |
		[(.read.iops + .write.iops),
		 (if $n > 0 then (.usr_cpu + .sys_cpu) / 100 * .job_runtime * 1e6 / $n else 0 end),
		 .ctx] | @tsv' "$6"
}

# run_rawio PATH ENGINE RW BS QD JSONFILE
run_rawio() {
	# shellcheck disable=SC2046
	"$rawio" bench --file "$1" --engine "$2" --rw "$3" --bs "$4" --qd "$5" --size "$size" \
		--runtime "${runtime}s" --ramp "${ramp}s" $(zero_rawio "$3") --json --no-progress >"$6"
	jq -r '[.iops, .cpu_ns_per_io, (.cpu.ctx_voluntary + .cpu.ctx_involuntary)] | @tsv' "$6"
}

# rawio_note TOOL JSONFILE: for rawio's runs, what the engine measured about itself (the uring
# engine's IOSQE_ASYNC probes on a device without NOWAIT: the mode kept, the last rates), and
# the job thread's sleeps, which is where the zram uring QD 32 row's time went (docs/perf.md).
rawio_note() {
	[ "$1" = rawio ] || return 0
	jq -r '", \(.cpu.ctx_voluntary) sleeps, util \(.cpu.util * 100 | floor)%" +
		((.engine_desc | capture("async=(?<a>measured\\([^)]*\\))").a | ", " + .) // "")' "$2"
}

# auto_rows PHASE PATH LABEL: rawio's auto engine against each fixed engine on the row, alternating.
auto_rows() {
	local phase=$1 path=$2 label=$3 rw bs qd rep eng list i n r j picked
	while read -r rw bs qd; do
		case $rw in *write*) [ "$phase" = write ] || continue ;; *) [ "$phase" = read ] || continue ;; esac
		list="auto"
		for eng in $engines; do
			[ "$eng" = sync ] && [ "$qd" != 1 ] && continue
			list="$list $eng"
		done
		read -r -a arr <<<"$list"
		n=${#arr[@]}
		for rep in $(seq 1 "$reps"); do
			idle_gate
			# Rotate the order each round: auto first, then second, ...
			for ((i = 0; i < n; i++)); do
				eng=${arr[$(((i + rep - 1) % n))]}
				j=$out/runs/$label.auto-vs.$eng.$rw.$bs.qd$qd.$rep.json
				r=$(run_rawio "$path" "$eng" "$rw" "$bs" "$qd" "$j")
				picked=$(jq -r .engine "$j")
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$eng" "$rw" "$bs" "$qd" \
					"$rep" "$picked" "$r" >>"$auto_runs"
				log "$label auto-vs $eng ($picked) $rw $bs qd$qd #$rep: $(cut -f1 <<<"$r" |
					xargs printf '%.0f') IOPS"
			done
		done
	done <<<"$rows"
}

# The rows: pattern, block size, queue depth (sync engines run at depth 1 only).
rows="randread 4k 1
randread 4k 32
randread 4k 128
randwrite 4k 32
read 128k 8"
if [ -n "$rows_opt" ]; then
	rows=$(tr ',:' '\n ' <<<"$rows_opt")
	while read -r rw bs qd; do
		[[ $rw =~ ^(rand)?(read|write|rw)$ && $bs =~ ^[0-9]+[kKmM]?$ && $qd =~ ^[0-9]+$ ]] ||
			{ log "--rows: '$rw:$bs:$qd' is not RW:BS:QD"; exit 2; }
	done <<<"$rows"
fi

for tname in ${targets[@]+"${targets[@]}"}; do
	rm -f "$out/zram.dev"
	path=$(setup_target "$tname") || true
	[ -f "$out/zram.dev" ] && zram_n=$(cat "$out/zram.dev") && rm -f "$out/zram.dev"
	[ -n "$path" ] || { zram_release; continue; }
	if [ -n "$zram_n" ]; then
		# Held open while we use it, so nothing can reset it under us.
		exec {zram_fd}<"$path"
	fi
	label=$tname
	case $tname in file | zram) ;; *) label=$(basename "$tname") ;; esac
	# Every read row first, on the data laid out; then the writes (their zeroes would
	# turn zram into zero pages, which read faster than the data).
	for phase in read write; do
	for eng in $engines; do
		seen=""
		while read -r rw bs qd; do
			case $rw in *write*) [ $phase = write ] || continue ;; *) [ $phase = read ] || continue ;; esac
			[ "$eng" = sync ] && qd=1
			case " $seen " in *" $rw/$bs/$qd "*) continue ;; esac
			seen="$seen $rw/$bs/$qd"
			for rep in $(seq 1 "$reps"); do
				idle_gate
				# fio first on odd repetitions, rawio first on even ones: whatever
				# drifts (CPU clocks after an idle spell, the host's caches) favors
				# neither tool.
				order="fio rawio"
				[ $((rep % 2)) = 0 ] && order="rawio fio"
				for tool in $order; do
					j=$out/runs/$label.$eng.$rw.$bs.qd$qd.$tool.$rep.json
					if [ $tool = fio ]; then
						r=$(run_fio "$path" "$eng" "$rw" "$bs" "$qd" "$j")
					else
						r=$(run_rawio "$path" "$eng" "$rw" "$bs" "$qd" "$j")
					fi
					printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$eng" "$rw" \
						"$bs" "$qd" "$tool" "$rep" "$r" >>"$runs"
					log "$label $eng $rw $bs qd$qd $tool #$rep: $(cut -f1 <<<"$r" |
						xargs printf '%.0f') IOPS$(rawio_note "$tool" "$j")"
				done
			done
		done <<<"$rows"
	done
	[ $auto = 0 ] || auto_rows $phase "$path" "$label"
	done
	zram_release
done

# Medians per row and tool -> $out/vs-fio.tsv
summary=$out/vs-fio.tsv
awk -F'\t' -v engines="$engines" -v rowlist="$(tr '\n' ';' <<<"$rows")" '
BEGIN {
	ne = split(engines, e, " "); for (i = 1; i <= ne; i++) erank[e[i]] = i
	nr = split(rowlist, rl, ";"); for (i = 1; i <= nr; i++) { split(rl[i], f, " "); rrank[f[1] "/" f[2]] = i }
}
function median(key, n,   i, j, t, a) {
	n = cnt[key]
	for (i = 1; i <= n; i++) a[i] = vals[key, i]
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	row = $1 "\t" $2 "\t" $3 "\t" $4 "\t" $5
	if (!($1 in trank)) trank[$1] = ++ntargets
	if (!(row in seen)) {
		seen[row] = 1; order[++nrows] = row
		rank[row] = trank[$1] * 1e6 + erank[$2] * 1e4 + rrank[$3 "/" $4] * 1e3 + $5
	}
	k = row SUBSEP $6 SUBSEP "iops"; vals[k, ++cnt[k]] = $8
	k = row SUBSEP $6 SUBSEP "cpu"; vals[k, ++cnt[k]] = $9
	reps[row] = $7 > reps[row] ? $7 : reps[row]
}
END {
	print "target\tengine\trw\tbs\tqd\tfio_iops\trawio_iops\tiops_ratio\tfio_cpu_ns\trawio_cpu_ns\tcpu_ratio\treps"
	for (i = 2; i <= nrows; i++) {
		t = order[i]
		for (j = i - 1; j >= 1 && rank[order[j]] > rank[t]; j--) order[j + 1] = order[j]
		order[j + 1] = t
	}
	for (r = 1; r <= nrows; r++) {
		row = order[r]
		fi = median(row SUBSEP "fio" SUBSEP "iops"); ri = median(row SUBSEP "rawio" SUBSEP "iops")
		fc = median(row SUBSEP "fio" SUBSEP "cpu"); rc = median(row SUBSEP "rawio" SUBSEP "cpu")
		printf "%s\t%.0f\t%.0f\t%.3f\t%.0f\t%.0f\t%.3f\t%d\n", row, fi, ri,
			(fi > 0 ? ri / fi : 0), fc, rc, (fc > 0 ? rc / fc : 0), reps[row]
	}
}' "$runs" >"$summary"

# auto / best fixed engine per row -> $out/auto.tsv
auto_summary=$out/auto.tsv
awk -F'\t' '
function median(key,   n, i, j, t, a) {
	n = cnt[key]
	for (i = 1; i <= n; i++) a[i] = vals[key, i]
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	row = $1 "\t" $3 "\t" $4 "\t" $5
	if (!(row in seen)) { seen[row] = 1; order[++nrows] = row }
	k = row SUBSEP $2; vals[k, ++cnt[k]] = $8
	if (!((row, $2) in eseen)) { eseen[row, $2] = 1; engs[row] = engs[row] " " $2 }
	if ($2 == "auto") picked[row] = picked[row] == "" || picked[row] == $7 ? $7 : picked[row] "/" $7
}
END {
	print "target\trw\tbs\tqd\tauto_engine\tauto_iops\tbest_engine\tbest_iops\tauto_ratio\tfixed"
	for (r = 1; r <= nrows; r++) {
		row = order[r]; best = 0; be = "-"; fixed = ""
		ne = split(engs[row], e, " ")
		for (i = 1; i <= ne; i++) {
			if (e[i] == "auto") continue
			m = median(row SUBSEP e[i]); fixed = fixed (fixed == "" ? "" : ",") e[i] "=" int(m + 0.5)
			if (m > best) { best = m; be = e[i] }
		}
		a = median(row SUBSEP "auto")
		printf "%s\t%s\t%.0f\t%s\t%.0f\t%.3f\t%s\n", row, picked[row], a, be, best,
			(best > 0 ? a / best : 0), fixed
	}
}' "$auto_runs" >"$auto_summary"

if [ $json = 1 ]; then
	# The vs-fio rows, then (unless --no-auto) the auto rows, marked "table": "auto".
	tsv_json() {
		jq -R -s 'split("\n") | map(select(length > 0) | split("\t")) | .[0] as $h | .[1:] |
			map([$h, .] | transpose | map({(.[0]): (.[1] | tonumber? // .)}) | add)' "$1"
	}
	if [ -s "$auto_runs" ]; then
		jq -s '.[0] + (.[1] | map(. + {table: "auto"}))' <(tsv_json "$summary") \
			<(tsv_json "$auto_summary")
	else
		tsv_json "$summary"
	fi
else
	echo
	echo "rawio vs $fio_version: medians of $reps alternating runs, ${runtime}s after a ${ramp}s ramp"
	echo "(iops ratio = rawio/fio, higher is better; cpu ratio = rawio/fio CPU per I/O, lower is better)"
	echo
	awk -F'\t' 'NR == 1 { printf "%-6s %-6s %-9s %5s %4s %10s %10s %7s %9s %9s %7s\n",
		"target", "engine", "rw", "bs", "qd", "fio IOPS", "rawio IOPS", "ratio", "fio ns/IO",
		"rawio ns/IO", "ratio"; next }
		{ printf "%-6s %-6s %-9s %5s %4s %10s %10s %7.2f %9s %9s %7.2f\n", $1, $2, $3, $4, $5,
		$6, $7, $8, $9, $10, $11 }' "$summary"
	if [ -s "$auto_runs" ]; then
		echo
		echo "auto against the best fixed engine (rawio only, medians of $reps rounds, order rotating;"
		echo "issue 15's goal: auto/best >= 0.95 on every row)"
		echo
		awk -F'\t' 'NR == 1 { printf "%-6s %-9s %5s %4s %-6s %10s %-6s %10s %7s  %s\n", "target", "rw",
			"bs", "qd", "auto", "auto IOPS", "best", "best IOPS", "ratio", "fixed engines"; next }
			{ printf "%-6s %-9s %5s %4s %-6s %10s %-6s %10s %7.2f  %s\n", $1, $2, $3, $4, $5, $6,
			$7, $8, $9, $10 }' "$auto_summary"
	fi
	echo
	echo "runs: $runs; summary: $summary; auto: $auto_summary"
fi
