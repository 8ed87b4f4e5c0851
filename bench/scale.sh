#!/usr/bin/env bash
# bench/scale.sh: seed 001's scalability study (issue 18) over `rawio bench` on
# the multi-queue RAM device, with zram and a loop device over tmpfs as kernel
# references. 4 KiB random reads throughout.
#
# usage: bench/scale.sh [--threads 1,2,4,8] [--queues 1,2] [--depth 1,4,16,64]
#                       [--runtime 1s] [--reps 1] [--full] [--no-kernel] [--no-goals]
#                       [--sections LIST] [--goal-rounds 3] [--rawio BIN] [--out DIR]
#   --threads LIST  jobs (threads) to sweep; default 1,2,4,8 (4x the cores of a
#                   2-vCPU machine); on a big one: --threads 1,2,4,8,16,32
#   --queues LIST   hardware queue counts for the depth sweep (default 1,NCPU)
#   --depth LIST    tags per queue (nr_requests) for the depth sweep (default 1,4,16,64)
#   --runtime T     measured time per point (default 1s, after a 0.3s ramp)
#   --reps N        runs per point, the median kept (default 1)
#   --full          the whole cross product threads x queues x depth x mode x
#                   completion x wait (long: minutes per hundred points)
#   --no-kernel     skip zram and the loop device (they need root)
#   --no-goals      skip the goal measurements (medians of 3, alternating)
#   --sections LIST only these of threads,depth,wait,balance,kernel,goals (default all;
#                   goals alone: a few minutes, for re-checking the goals)
#   --goal-rounds N rounds of the alternating goal runs, the median kept (default 3)
#   --out DIR       where everything goes (default build/scale): points.jsonl (one
#                   JSON object per point), table.txt, tables.md, report.txt, goals.txt, *.png
#                   (iops-threads, iops-per-cpu-threads, iops-depth, lat-depth, iops-wait,
#                   balance, iops-kernel)
#
# Sections (the quick default, a few minutes on 2 vCPUs):
#   threads   IOPS against threads, sq (one queue, one lock) vs mq (one queue per
#             CPU), for each completion mode, on a null device (backed=0: no copy,
#             so what is left is the queue layer) with --phases
#   depth     IOPS and latency against tags per queue, complete=timer lat=20us
#             (tags are held for the device's latency), threads = 2 x CPUs
#   wait      IOPS, CPU and context switches against threads per wait mode
#             (block, spin, hybrid), complete=timer lat=20us
#   balance   requests per hardware queue, threads pinned one per CPU and not, each
#             counted (every job one pass of 262144 reads: deterministic when pinned) and
#             timed (1 s: the counts follow the CPU each thread got)
#   kernel    zram (made and removed here) and a loop device over a file in /dev/shm,
#             uring engine with --phases, IOPS against threads; fio on zram and on its
#             null engine
#   goals     the issue's goals, every variant once per round (--goal-rounds), medians;
#             beside each run the CPUs its job threads got, the CPUs the rest of the
#             machine used and the steal time (/proc/stat), and memcpy_ceiling.c's copy
#             rate (the most a backed device can give per CPU on this machine)
# A benchmark, never a pass/fail test: exits 0 whatever the numbers (1 when a run
# fails). Needs jq and gnuplot (and a C compiler for the copy ceiling).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

ncpu=$(nproc)
threads=1,2,4,8
queues="1,$ncpu"
depths=1,4,16,64
runtime=1s
reps=1
full=0
kernel=1
goals=1
sections=threads,depth,wait,balance,kernel,goals
goal_rounds=3
rawio=""
out=build/scale
while [ $# -gt 0 ]; do
	case "$1" in
	--threads) threads=$2; shift 2 ;;
	--queues) queues=$2; shift 2 ;;
	--depth) depths=$2; shift 2 ;;
	--runtime) runtime=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--full) full=1; shift ;;
	--no-kernel) kernel=0; shift ;;
	--no-goals) goals=0; shift ;;
	--sections) sections=$2; shift 2 ;;
	--goal-rounds) goal_rounds=$2; shift 2 ;;
	--rawio) rawio=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "scale.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
bench_find_rawio scale.sh
for t in jq gnuplot; do
	command -v $t >/dev/null || { echo "scale.sh: needs $t" >&2; exit 1; }
done
mkdir -p "$out"
points=$out/points.jsonl
: >"$points"
size=256M
tmp=$(mktemp -d)
zram=""
loopdev=""
cleanup() {
	[ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null || true
	rm -f /dev/shm/rawio-scale.img
	[ -n "$zram" ] && echo "$zram" >/sys/class/zram-control/hot_remove 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# point SECTION KEY=VAL... -- BENCH ARGS: run rawio bench REPS times, keep the run with
# the median IOPS, append one flat JSON line (the KEY=VALs, the numbers, phases, queues).
point() {
	local section=$1 tags="{}" i
	shift
	while [ "$1" != -- ]; do
		tags=$(jq -c --arg k "${1%%=*}" --arg v "${1#*=}" '. + {($k): $v}' <<<"$tags")
		shift
	done
	shift
	for i in $(seq 1 "$reps"); do
		"$rawio" bench --runtime "$runtime" --ramp 0.3s --no-progress --json "$@" \
			>"$tmp/run.$i.json" || { echo "scale.sh: rawio bench $* failed" >&2; exit 1; }
	done
	jq -s -c --arg s "$section" --argjson tags "$tags" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '
		sort_by(.iops) | .[(length / 2 | floor)] as $r | $tags + {
		section: $s, load: $load, engine_desc: $r.engine_desc, jobs: $r.jobs, qd: $r.qd,
		iops: $r.iops, cpu_ns_per_io: $r.cpu_ns_per_io,
		iops_per_cpu: (if $r.cpu_ns_per_io > 0 then 1e9 / $r.cpu_ns_per_io else 0 end),
		cpus: (($r.cpu.util // 0) * $r.jobs),
		ctx_per_io: (if $r.ios > 0 then ($r.cpu.ctx_voluntary + $r.cpu.ctx_involuntary) / $r.ios else 0 end),
		p50: $r.lat_ns.p50, p99: $r.lat_ns.p99, p999: $r.lat_ns.p999, mean: $r.lat_ns.mean,
		phases: ($r.phases_ns // null | if . then with_entries(.value |= {mean, p50, p99}) else null end),
		queues: ($r.queues // [] | map(.completed)), imbalance: ($r.queue_imbalance // null),
		tag_waits: ($r.queues // [] | map(.tag_waits) | add // 0)}' "$tmp"/run.*.json >>"$points"
	rm -f "$tmp"/run.*.json
	tail -1 "$points" | jq -r '"\(.section) \(.label // "") jobs=\(.jobs) IOPS=\(.iops | floor) cpu/io=\(.cpu_ns_per_io | floor)ns p99=\(.p99)"' >&2
}

memdev() { echo "mem:$size,$1"; }

if [ $full = 1 ]; then
	for mode in sq mq; do
		for q in ${queues//,/ }; do
			[ $mode = sq ] && [ "$q" != 1 ] && continue
			for d in ${depths//,/ }; do
				for c in inline thread timer; do
					for w in block spin hybrid; do
						for t in ${threads//,/ }; do
							point full label="$mode q=$q d=$d $c $w" mode=$mode queues=$q depth=$d complete=$c wait=$w -- \
								--engine mem --file "$(memdev "mode=$mode,queues=$q,depth=$d,complete=$c,lat=20us,backed=0")" \
								--jobs "$t" --qd 32 --wait $w --phases
						done
					done
				done
			done
		done
	done
fi

want() { [[ ",$sections," == *",$1,"* ]]; }
want goals || goals=0

# threads: sq vs mq per completion mode, null device.
want threads && for c in inline thread timer; do
	for mode in sq mq; do
		q=1
		[ $mode = mq ] && q=$ncpu
		for t in ${threads//,/ }; do
			point threads label="$mode $c" mode=$mode complete=$c queues=$q -- \
				--engine mem --file "$(memdev "mode=$mode,queues=$q,complete=$c,lat=20us,backed=0")" \
				--jobs "$t" --qd 32 --phases
		done
	done
done

# depth: tags per queue (nr_requests) with a 20 us device, threads = 2 x CPUs.
want depth && for q in ${queues//,/ }; do
	for d in ${depths//,/ }; do
		point depth label="mq q=$q" queues=$q depth=$d -- \
			--engine mem --file "$(memdev "queues=$q,depth=$d,complete=timer,lat=20us,backed=0")" \
			--jobs $((2 * ncpu)) --qd 32 --phases
	done
done
want depth && for d in ${depths//,/ }; do
	point depth label="sq" queues=1 depth=$d -- \
		--engine mem --file "$(memdev "mode=sq,depth=$d,complete=timer,lat=20us,backed=0")" \
		--jobs $((2 * ncpu)) --qd 32 --phases
done

# wait: block, spin, hybrid against threads, 20 us device, QD 4 per thread.
want wait && for w in block spin hybrid; do
	for t in ${threads//,/ }; do
		point wait label="$w" wait=$w -- \
			--engine mem --file "$(memdev "queues=$ncpu,complete=timer,lat=20us,backed=0")" \
			--jobs "$t" --qd 4 --wait $w
	done
done

# balance: one thread per CPU pinned, and twice as many unpinned; each two ways. Counted
# (seed 001's fio jobs: every job reads the same number of blocks, here one pass over
# 1 GiB, 262144 reads): a queue's count then depends only on which queue the map sent
# each request to, so pinned it must come out equal, and migrations show as imbalance.
# Timed (1 s): a queue's count is also how much CPU its pinned thread got from a shared
# machine, which no map can balance.
if want balance; then
	for how in counted timed; do
		run=(--runtime 0 --ramp 0 --size 1G)
		[ $how = timed ] && run=()
		point balance label="pinned, $how" -- --engine mem --file "mem:1G,queues=$ncpu,backed=0" \
			--jobs "$ncpu" --qd 32 --pin "${run[@]}"
		point balance label="unpinned x2, $how" -- --engine mem --file "mem:1G,queues=$ncpu,backed=0" \
			--jobs $((2 * ncpu)) --qd 32 "${run[@]}"
	done
fi

# kernel references: zram and loop over tmpfs, uring, as root.
if [ $kernel = 1 ] && { want kernel || want goals; } && [ "$(id -u)" = 0 ] && [ -e /sys/class/zram-control/hot_add ]; then
	zram=$(cat /sys/class/zram-control/hot_add)
	echo 1G >/sys/block/zram$zram/disksize
	"$rawio" bench --engine uring --file /dev/zram$zram --rw write --bs 1m --qd 4 --runtime 0 \
		--size $size --no-progress >/dev/null
	truncate -s $size /dev/shm/rawio-scale.img
	loopdev=$(losetup -f --show --direct-io=on /dev/shm/rawio-scale.img 2>/dev/null ||
		losetup -f --show /dev/shm/rawio-scale.img)
	want kernel && for dev in /dev/zram$zram $loopdev; do
		name=zram
		[ "$dev" = "$loopdev" ] && name=loop-shm
		for t in ${threads//,/ }; do
			point kernel label="$name uring" -- --engine uring --file "$dev" --size $size \
				--jobs "$t" --qd 32 --phases
		done
	done
fi

# The table.
jq -r -s '["section", "label", "jobs", "queues", "depth", "IOPS", "cpu_ns/io", "ctx/io",
	"p50_ns", "p99_ns", "p99.9_ns", "imbal", "tagwaits"],
	(.[] | [.section, .label, .jobs, (.queues | length), (.depth // "-"), (.iops | floor),
	(.cpu_ns_per_io | floor), (.ctx_per_io * 1000 | round / 1000), .p50, .p99, .p999,
	(if .imbalance then (.imbalance * 1000 | round / 1000) else "-" end), .tag_waits])
	| @tsv' "$points" | column -t -s $'\t' >"$out/table.txt"
jq -s . "$points" >"$out/scale.json"
# The same as markdown, one table per section (docs/perf.md's tables).
cat >"$tmp/tables.jq" <<'EOF'
def r(x): (x * 100 | round / 100);
def k(x): (x / 1000 | round | tostring) + "k";
def row(cols): "| " + (cols | map(tostring) | join(" | ")) + " |";
group_by(.section)[] | .[0].section as $s |
"\n#### " + $s + "\n",
(if $s == "threads" then
	"| mode | completion | threads | IOPS | IOPS per CPU-s | CPUs got | CPU ns/IO | ctx/IO | p50 us | p99 us | p99.9 us | Q2G | D2C | C2R (mean ns) | tag waits |",
	"|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
	(sort_by(.complete, .mode, .jobs)[] | row([.mode, .complete, .jobs, k(.iops), k(.iops_per_cpu), r(.cpus), (.cpu_ns_per_io|floor), r(.ctx_per_io), r(.p50/1000), r(.p99/1000), r(.p999/1000), (.phases.Q2G.mean|floor), (.phases.D2C.mean|floor), (.phases.C2R.mean|floor), .tag_waits]))
elif $s == "depth" then
	"| device | tags per queue | IOPS | CPU ns/IO | p50 us | p99 us | p99.9 us | Q2G mean ns | tag waits |",
	"|---|---:|---:|---:|---:|---:|---:|---:|---:|",
	(sort_by(.label, (.depth|tonumber))[] | row([.label, .depth, k(.iops), (.cpu_ns_per_io|floor), r(.p50/1000), r(.p99/1000), r(.p999/1000), (.phases.Q2G.mean|floor), .tag_waits]))
elif $s == "wait" then
	"| wait | threads | IOPS | IOPS per CPU-s | CPU ns/IO | ctx/IO | p50 us | p99 us | p99.9 us |",
	"|---|---:|---:|---:|---:|---:|---:|---:|---:|",
	(sort_by(.label, .jobs)[] | row([.label, .jobs, k(.iops), k(.iops_per_cpu), (.cpu_ns_per_io|floor), r(.ctx_per_io), r(.p50/1000), r(.p99/1000), r(.p999/1000)]))
elif $s == "balance" then
	"| run | threads | requests per queue | imbalance (max/mean) |",
	"|---|---:|---|---:|",
	(.[] | row([.label, .jobs, (.queues | map(tostring) | join(" / ")), r(.imbalance)]))
else
	"| device | threads | IOPS | IOPS per CPU-s | CPU ns/IO | p50 us | p99 us | p99.9 us | G2D | D2C | C2R (mean ns) |",
	"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
	(sort_by(.label, .jobs)[] | row([.label, .jobs, k(.iops), k(.iops_per_cpu), (.cpu_ns_per_io|floor), r(.p50/1000), r(.p99/1000), r(.p999/1000), (.phases.G2D.mean // 0 | floor), (.phases.D2C.mean // 0 | floor), (.phases.C2R.mean // 0 | floor)]))
end)
EOF
jq -r -s -f "$tmp/tables.jq" "$points" >"$out/tables.md"

# Where scaling stops, and the phase that grew: for each threads series, the first
# step that gains less than 10%, and which phase's mean grew most across it.
jq -r -s '
	map(select(.section == "threads")) | group_by(.label)[] | sort_by(.jobs) as $s |
	[range(1; $s | length) | select($s[.].iops < 1.1 * $s[. - 1].iops)] as $stops |
	if ($stops | length) == 0 then "\($s[0].label): scales through \($s[-1].jobs) threads"
	else $s[$stops[0] - 1] as $a | $s[$stops[0]] as $b |
		([$b.phases | to_entries[] | select(.key != "Q2R") |
		  {k: .key, d: (.value.mean - $a.phases[.key].mean)}] | max_by(.d)) as $g |
		"\($a.label): stops at \($a.jobs) -> \($b.jobs) threads (\($a.iops | floor) -> \($b.iops | floor) IOPS); " +
		"grew most: \($g.k) mean \($a.phases[$g.k].mean | floor) -> \($b.phases[$g.k].mean | floor) ns"
	end' "$points" >"$out/report.txt"
# The paper's shape: mq over sq at each thread count, per completion mode.
jq -r -s '
	map(select(.section == "threads")) | group_by(.complete)[] | . as $c |
	"mq/sq \($c[0].complete): " + ([$c[] | select(.mode == "mq") | . as $m |
	($c[] | select(.mode == "sq" and .jobs == $m.jobs)) as $s |
	"\($m.jobs)t \($m.iops / $s.iops * 100 | round / 100)"] | join(", "))' "$points" >>"$out/report.txt"

# Plots: one data file per series, "x y..." sorted by x.
series() { # SECTION LABEL XFIELD YFIELDS... -> file
	local f="$tmp/$1.${2// /_}.dat"
	jq -r -s --arg s "$1" --arg l "$2" --arg x "$3" --argjson ys "$(printf '%s\n' "${@:4}" | jq -R . | jq -s .)" '
		map(select(.section == $s and .label == $l)) | sort_by(.[$x] | tonumber)[] |
		[(.[$x] | tonumber)] + [$ys[] as $y | .[$y]] | @tsv' "$points" >"$f"
	echo "$f"
}
labels() { jq -r -s --arg s "$1" 'map(select(.section == $s) | .label) | unique[]' "$points"; }

plot_lines() { # PNG TITLE XLABEL YLABEL SECTION XFIELD YFIELD [logx]
	local png=$1 title=$2 xl=$3 yl=$4 sec=$5 x=$6 y=$7 logx=${8:-}
	{
		echo "set terminal pngcairo size 800,500 noenhanced font ',10'"
		echo "set output '$png'"
		echo "set title '$title'"
		echo "set xlabel '$xl'"
		echo "set ylabel '$yl'"
		echo "set key outside right"
		echo "set grid"
		[ -n "$logx" ] && echo "set logscale x 2"
		printf 'plot '
		local first=1
		while read -r l; do
			[ $first = 1 ] || printf ', '
			first=0
			printf "'%s' using 1:(\$2/1000) with linespoints title '%s'" "$(series "$sec" "$l" "$x" "$y")" "$l"
		done < <(labels "$sec")
		echo
	} >"$tmp/plot.gp"
	gnuplot "$tmp/plot.gp"
}
[ -n "$(labels threads)" ] && plot_lines "$out/iops-threads.png" \
	"mem backed=0, 4 KiB randread, QD 32 per thread ($ncpu vCPUs)" "threads" "kIOPS" threads jobs iops logx
# What each I/O cost in CPU: robust to a shared machine, where wall IOPS are not.
[ -n "$(labels threads)" ] && plot_lines "$out/iops-per-cpu-threads.png" \
	"mem backed=0: IOPS per CPU-second of the job threads ($ncpu vCPUs)" "threads" "kIOPS per CPU-second" threads jobs iops_per_cpu logx
[ -n "$(labels depth)" ] && plot_lines "$out/iops-depth.png" \
	"mem complete=timer lat=20us, $((2 * ncpu)) threads: IOPS vs tags per queue" "tags per queue (depth)" "kIOPS" depth depth iops logx
[ -n "$(labels wait)" ] && plot_lines "$out/iops-wait.png" \
	"mem complete=timer lat=20us, QD 4 per thread: wait modes" "threads" "kIOPS" wait jobs iops logx
[ -n "$(labels kernel)" ] && plot_lines "$out/iops-kernel.png" \
	"kernel references, uring, 4 KiB randread, QD 32 per thread" "threads" "kIOPS" kernel jobs iops logx

# Latency percentiles against depth (mq on the most queues).
if [ -n "$(labels depth)" ]; then
	lq=$(labels depth | grep '^mq' | tail -1)
	f=$(series depth "$lq" depth p50 p99 p999)
	cat >"$tmp/lat.gp" <<EOF
set terminal pngcairo size 800,500 noenhanced font ',10'
set output '$out/lat-depth.png'
set title 'mem complete=timer lat=20us, $((2 * ncpu)) threads, $lq: latency vs tags per queue'
set xlabel 'tags per queue (depth)'
set ylabel 'latency (us)'
set logscale x 2
set logscale y 10
set key outside right
set grid
plot '$f' using 1:(\$2/1000) with linespoints title 'p50', '' using 1:(\$3/1000) with linespoints title 'p99', '' using 1:(\$4/1000) with linespoints title 'p99.9'
EOF
	gnuplot "$tmp/lat.gp"
fi

# Per-queue balance: requests each queue completed, per balance run.
if [ -n "$(labels balance)" ]; then
	jq -r -s 'map(select(.section == "balance")) as $b |
		range(0; $b[0].queues | length) as $q |
		[$q] + [$b[] | .queues[$q] * 100 / ([.queues | add, 1] | max)] | @tsv' \
		"$points" >"$tmp/balance.dat"
	{
		echo "set terminal pngcairo size 800,500 noenhanced font ',10'"
		echo "set output '$out/balance.png'"
		echo "set title 'requests per hardware queue (mem queues=$ncpu backed=0)'"
		echo "set xlabel 'hardware queue'"
		echo "set ylabel \"share of each run's requests (%; even: $((100 / ncpu)))\""
		echo "set style data histograms"
		echo "set style fill solid 0.8"
		echo "set key outside right"
		echo "set grid y"
		echo "set yrange [0:*]"
		printf 'plot '
		i=2
		while read -r l; do
			[ $i = 2 ] || printf ', '
			printf "'%s' using %d:xtic(1) title '%s'" "$tmp/balance.dat" $i "$l (imbalance $(jq -r -s --arg l "$l" 'map(select(.section == "balance" and .label == $l))[0].imbalance * 1000 | round / 1000' "$points"))"
			i=$((i + 1))
		done < <(jq -r -s 'map(select(.section == "balance") | .label)[]' "$points")
		echo
	} >"$tmp/bal.gp"
	gnuplot "$tmp/bal.gp"
fi

# Goals: medians of 3, A and B alternating in one run.
if [ $goals = 1 ]; then
	med() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
	# IOPS, the IOPS one CPU would give (10^9 / CPU ns per I/O of the job threads:
	# getrusage(RUSAGE_THREAD)), the CPUs the job threads got (their CPU time over the
	# window), and from /proc/stat over the whole process: the CPUs everything else on
	# the machine used meanwhile ("others": its busy share of the time /proc/stat
	# accounted, less ours), the steal the hypervisor reported per second, and the CPU
	# time per second /proc/stat did not account at all (NCPU x wall - its total: on
	# this VM 0.03-0.2 CPU with steal reported as 0). On a shared machine the first
	# number says what we got; the others why.
	one() {
		local j0 j1 t TIMEFORMAT='%R %U %S'
		j0=$(bench_cpu_jiffies)
		{ time "$rawio" bench --runtime "$runtime" --ramp 0.3s --no-progress --json "$@" \
			>"$tmp/one.json"; } 2>"$tmp/time"
		j1=$(bench_cpu_jiffies)
		t=$(tail -1 "$tmp/time")
		jq -r --arg j0 "$j0" --arg j1 "$j1" --arg t "$t" --argjson hz "$(getconf CLK_TCK)" --argjson ncpu "$ncpu" '
			($j0 | split(" ") | map(tonumber)) as $a | ($j1 | split(" ") | map(tonumber)) as $b |
			($t | split(" ") | map(tonumber)) as $p | ([$p[0], 0.01] | max) as $wall |
			([$b[2] - $a[2], 1] | max) as $total |
			($ncpu * (($b[0] - $a[0]) - ($p[1] + $p[2]) * $hz) / $total) as $others |
			"\(.iops | floor)/\(1e9 / .cpu_ns_per_io | floor)/\(.cpu.util * .jobs * 100 | round / 100)" +
			"/\([$others, 0] | max * 100 | round / 100)/\(($b[1] - $a[1]) / $hz / $wall * 100 | round / 100)" +
			"/\([$ncpu - $total / $hz / $wall, 0] | max * 100 | round / 100)"' \
			"$tmp/one.json"
	}
	# The copy a backed read makes, with nothing around it (bench/memcpy_ceiling.c):
	# what one CPU can do at most for 4 KiB random reads out of that much RAM.
	ceiling=""
	if command -v cc >/dev/null && cc -O2 -o "$tmp/memcpy_ceiling" bench/memcpy_ceiling.c; then
		ceiling=$tmp/memcpy_ceiling
	fi
	ceil() { "$ceiling" "$1" 1 1000000 | awk '{ printf "%d/%d\n", 1e9 / $4, $10 }'; }
	declare -A g
	for _ in $(seq 1 "$goal_rounds"); do
		g[mq1]+=" $(one --engine mem --file "$(memdev "queues=1,backed=0")" --jobs 1 --qd 32)"
		g[mqN]+=" $(one --engine mem --file "$(memdev "queues=$ncpu,backed=0")" --jobs "$ncpu" --qd 32 --pin)"
		g[sqN]+=" $(one --engine mem --file "$(memdev "mode=sq,backed=0")" --jobs "$ncpu" --qd 32 --pin)"
		g[backed1]+=" $(one --engine mem --file "$(memdev "queues=1")" --jobs 1 --qd 32)"
		g[backed1small]+=" $(one --engine mem --file "mem:4M,queues=1" --jobs 1 --qd 32)"
		g[backed1g]+=" $(one --engine mem --file "mem:1G,queues=1" --jobs 1 --qd 32)"
		if [ -n "$ceiling" ]; then
			g[copy4m]+=" $(ceil 4)"
			g[copy256m]+=" $(ceil 256)"
			g[copy1g]+=" $(ceil 1024)"
		fi
		g[null1]+=" $(one --engine mem --file "$(memdev "queues=1,backed=0")" --jobs 1 --qd 32)"
		g[null1ph]+=" $(one --engine mem --file "$(memdev "queues=1,backed=0")" --jobs 1 --qd 32 --phases)"
		g[backed1ph]+=" $(one --engine mem --file "$(memdev "queues=1")" --jobs 1 --qd 32 --phases)"
		if command -v fio >/dev/null; then
			g[fionull]+=" $(fio --name=n --ioengine=null --rw=randread --bs=4k --size=$size \
				--iodepth=32 --time_based --runtime=1 --output-format=json |
				jq -r '.jobs[0] | "\(.read.iops | floor)/\(.read.io_kbytes / 4 / ((.usr_cpu + .sys_cpu) / 100 * .job_runtime / 1000) | floor)"')"
		fi
		if [ -n "$zram" ]; then
			g[zramraw]+=" $(one --engine uring --file /dev/zram$zram --size $size --jobs 1 --qd 32)"
			g[zramfio]+=" $(fio --name=z --filename=/dev/zram$zram --ioengine=io_uring --direct=1 \
				--rw=randread --bs=4k --size=$size --iodepth=32 --time_based --runtime=1 \
				--output-format=json |
				jq -r '.jobs[0] | "\(.read.iops | floor)/\(.read.io_kbytes / 4 / ((.usr_cpu + .sys_cpu) / 100 * .job_runtime / 1000) | floor)"')"
		fi
	done
	{
		echo "uptime: $(uptime)"
		echo "key: runs as IOPS/IOPS-per-CPU-second[/CPUs the job threads got/CPUs the rest of"
		echo "     the machine used/steal reported (CPU-s per s)/CPU-s per s not accounted]; medians"
		echo "     of each (fio and copyN,"
		echo "     the memcpy ceiling of 4 KiB random reads out of N of RAM: the first two only)"
		for k in mq1 mqN sqN backed1 backed1small backed1g copy4m copy256m copy1g null1 null1ph backed1ph fionull zramraw zramfio; do
			[ -n "${g[$k]:-}" ] || continue
			line="$k:${g[$k]} median $(tr ' ' '\n' <<<"${g[$k]}" | grep . | cut -d/ -f1 | med)"
			line+=" per-cpu $(tr ' ' '\n' <<<"${g[$k]}" | grep / | cut -d/ -f2 | med)"
			if [ "$(tr ' ' '\n' <<<"${g[$k]}" | grep . | head -1 | tr -cd / | wc -c)" -ge 2 ]; then
				line+=" cpus $(tr ' ' '\n' <<<"${g[$k]}" | grep . | cut -d/ -f3 | med)"
				line+=" others $(tr ' ' '\n' <<<"${g[$k]}" | grep . | cut -d/ -f4 | med)"
				line+=" steal $(tr ' ' '\n' <<<"${g[$k]}" | grep . | cut -d/ -f5 | med)"
				line+=" unaccounted $(tr ' ' '\n' <<<"${g[$k]}" | grep . | cut -d/ -f6 | med)"
			fi
			echo "$line"
		done
		# The scaling goal per round: N threads on N queues over one thread, wall and per CPU.
		paste -d' ' <(tr ' ' '\n' <<<"${g[mq1]}" | grep .) <(tr ' ' '\n' <<<"${g[mqN]}" | grep .) |
			awk -v n="$ncpu" '{ split($1, a, "/"); split($2, b, "/")
				printf "round %d: mqN/mq1 wall %.2fx (goal %.1fx), per CPU-second %.2f, CPUs %s vs %s, others %s vs %s\n",
					NR, b[1] / a[1], 0.9 * n, b[2] / a[2], a[3], b[3], a[4], b[4] }'
	} | tee "$out/goals.txt" >&2
fi
echo "scale.sh: $(wc -l <"$points") points in $out (table.txt, report.txt, *.png)" >&2
cat "$out/report.txt"
