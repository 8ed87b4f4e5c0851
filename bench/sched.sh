#!/usr/bin/env bash
# The disk I/O scheduler's goals (issue 15), side by side in one run:
#   fairness   two classes saturating 4 KiB random I/O at QD 64 each (reads, then 70/30 mixed)
#              with shares 100:400, 100:200 and 100:800: IOPS and disk-time ratios
#   latency    a 4 KiB random reader at QD 4 beside a 1 MiB sequential writer at QD 8:
#              the reader's p99 beside the writer without the scheduler, with it, and with
#              it in duplex (a bucket and a bound per direction), each against the reader
#              alone run just before it (same offsets, same file state), and the writer's
#              bandwidth against its solo bandwidth in the same round
#   kernel     (--target loop --kernel) the same two as separate processes on the same loop
#              device with none, mq-deadline, kyber, and cgroup v2 io.weight under iocost;
#              (--target zram --kernel) why neither is available on zram here
#   overhead   the scheduler in pass-through on mem null mode, ns of CPU per I/O against
#              the same class loop without it (alternating, medians)
#   cache      (--cache, file target) a cache on two files beside the target: 4 reader threads
#              reading 4 KiB cache hits, alone and while drain writes back 256 MiB at
#              nr_batched_migration 128, without and with the scheduler (the target's
#              io_properties.yaml), alternating; --cache-only skips the other sections
# Each target is measured by rawio iotune first (its io_properties.yaml is the model).
#   --goals    the issue's goal table in one command: file (cache, latency, overhead), zram
#              (latency with the default goal and with 100us, kernel) and loop (latency,
#              kernel), no fairness; medians of the rounds
#   --no-fair  skip the fairness section; --no-overhead skip the overhead section;
#              --no-equal skip the latency section's 100:100 row (--goals does)
#   --targets LIST  (--goals) which of file,zram,loop to run (default all three);
#              --no-cache (--goals) skip the cache rows
#   --iotune-duration SECS  iotune's --duration (default 20; --goals: 10)
#   --io-properties FILE  the model for the target instead of iotune's; --models DIR: the
#              model of each target from DIR/TARGET.yaml where it exists (measured quietly)
#   --ab BIN   the latency section also runs its scheduled rows with rawio BIN (an older
#              build), alternating with $RAWIO in each round, same model: rows "sched (A)"
#   --latency-goal TIME  the latency section also runs the scheduler with this in-flight
#              bound (rawio bench --latency-goal): rows "sched, goal TIME"; --goals: 100us
#              on zram (docs/perf.md: on zram a read waits in io-wq behind queued writes)
#   --class-threads  the latency section also runs the scheduler with a thread (and an engine
#              context, on io_uring an io-wq) per class (rawio bench --class-threads): rows
#              "sched, thread per class"; --goals runs it on both targets
#   --writer-nice N  with it, also the writer's class thread at nice +N (its io-wq workers
#              inherit it): rows "sched, thread per class, writer nice N"
#   --no-duplex  skip the duplex rows (--goals does on the file: its reader waits out host
#              stalls, duplex or not; docs/perf.md)
#   --profile  (any target) only the reader beside the writer with the scheduler (the model,
#              --latency-goal if given), traced for 1 s by perf (io_uring, block, sched
#              events): where each 4 KiB read's time goes (io-wq queue behind writes, the
#              run queue, completion), and who held the CPU meanwhile
#
# usage: bench/sched.sh [--target file|zram|loop|mem] [--runtime SECS] [--rounds N] [--kernel]
#                       [--cache|--cache-only] [--cache-bytes SIZE] [--out DIR] [--goals]
#                       [--targets LIST] [--no-cache] [--iotune-duration SECS] [--ab BIN]
#                       [--io-properties FILE] [--models DIR] [--latency-goal TIME] [--profile]
#                       [--class-threads] [--writer-nice N] [--no-duplex]
# --goals defaults: --rounds 3 --runtime 3 --iotune-duration 10 --cache-bytes 64m; with
# --targets file,zram sized for <= 5 minutes on a quiet machine (262 s in the fourth session's
# quiet pass; the fifth session's thread-per-class rows add 6 runs of 4 s per target and
# the file's duplex rows, dropped, took as many: about 290 s); the run time is printed.
# file: a 1 GiB file in $RAWIO_BENCH_DIR (default /work/rawio-bench); zram: a 1 GiB zram
# device made and removed here; loop: a loop device (direct I/O) over a 1 GiB file there,
# detached at exit (both root). Raw JSON goes to DIR (default build/bench/sched).
set -euo pipefail
cd "$(dirname "$0")/.."

target=file runtime= rounds=3 kernel=0 out=build/bench/sched cache=0 cache_bytes=
fair=1 overhead=1 goals=0 equal=1 targets=file,zram,loop gcache=1 tune_s= props= models= ab=
lgoal= profile=0 cthreads=0 wnice= duplex=1
while [ $# -gt 0 ]; do
	case $1 in
	--goals) goals=1; shift ;;
	--targets) targets=$2; shift 2 ;;
	--no-cache) gcache=0; shift ;;
	--iotune-duration) tune_s=$2; shift 2 ;;
	--io-properties) props=$(realpath "$2"); shift 2 ;;
	--models) models=$(realpath "$2"); shift 2 ;;
	--ab) ab=$(realpath "$2"); shift 2 ;;
	--latency-goal) lgoal=$2; shift 2 ;;
	--profile) profile=1; shift ;;
	--class-threads) cthreads=1; shift ;;
	--writer-nice) wnice=$2; shift 2 ;;
	--no-duplex) duplex=0; shift ;;
	--no-fair) fair=0; shift ;;
	--no-overhead) overhead=0; shift ;;
	--no-equal) equal=0; shift ;;
	--target) target=$2; shift 2 ;;
	--runtime) runtime=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--kernel) kernel=1; shift ;;
	--cache) cache=1; shift ;;
	--cache-only) cache=2; shift ;;
	--cache-bytes) cache_bytes=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
if [ "$goals" = 1 ]; then
	: "${runtime:=3}" "${tune_s:=10}" "${cache_bytes:=64m}"
else
	: "${runtime:=5}" "${tune_s:=20}" "${cache_bytes:=256m}"
fi
R=${RAWIO:-build/release/tools/rawio}
[ -x "$R" ] || { echo "build the release preset first ($R)" >&2; exit 1; }
mkdir -p "$out"

if [ "$goals" = 1 ]; then
	t0=$(date +%s)
	common=(--no-fair --no-equal --class-threads --rounds "$rounds" --runtime "$runtime" --iotune-duration "$tune_s" --out "$out")
	[ -n "$wnice" ] && common+=(--writer-nice "$wnice")
	[ -n "$models" ] && common+=(--models "$models")
	[ -n "$ab" ] && common+=(--ab "$ab")
	rm -f "$out"/*.json "$out/overhead.txt"
	for t in ${targets//,/ }; do
		case $t in
		file)
			c=(--runtime "$runtime" --no-duplex)
			[ "$gcache" = 1 ] && c+=(--cache --cache-bytes "$cache_bytes")
			"$0" --target file "${c[@]}" "${common[@]}" ;;
		zram) "$0" --target zram --kernel --no-overhead --latency-goal "${lgoal:-100us}" "${common[@]}" ;;
		loop) "$0" --target loop --kernel --no-overhead "${common[@]}" ;;
		*) echo "unknown target $t" >&2; exit 2 ;;
		esac
	done
	# The goal table: medians over the rounds' JSON.
	med() { jq -s 'sort | .[(length - 1) / 2 | floor]'; }
	f() { for i in $(seq 1 "$rounds"); do jq "$2" "$out/$1-$i.json"; done | med; }
	echo "## goals (medians of $rounds rounds; $(date -u +%F\ %T), uptime: $(uptime | sed 's/.*load/load/'))"
	echo "| goal | measured | target | met |"
	echo "|---|---|---|---|"
	if [ -f "$out/cache-sched-1.json" ]; then
		ns=$(f cache-nosched .read_p99_ns) ss=$(f cache-sched .read_p99_ns)
		nd=$(f cache-nosched .seconds) sd=$(f cache-sched .seconds)
		rq=$(f cache-sched '.read_queue_p99_ns // 0') rd=$(f cache-sched '.read_disk_p99_ns // 0')
		mq=$(f cache-sched '.migrate_queue_p99_ns // 0')
		echo "| cache reader p99 during drain (batch 128), sched vs direct | $((ss / 1000)) us vs $((ns / 1000)) us (drain $sd s vs $nd s; sched: read class queue p99 $((rq / 1000)) us, disk p99 $((rd / 1000)) us, migrate queue p99 $((mq / 1000)) us) | sched <= direct | $(jq -n "$ss <= $ns") |"
	fi
	# The reader's p99 against its own idle run just before (x idle: the median of the
	# rounds' ratios), the writer against the round's writer alone (likewise).
	ratio() { for i in $(seq 1 "$rounds"); do
		jq -n --slurpfile a "$out/$1-$i.json" --slurpfile b "$out/$3-$i.json" "\$a[0]$2 / \$b[0]$4"
	done | med; }
	for t in ${targets//,/ }; do
		wsolo=$(f "$t-lat-wsolo" .classes[0].mbps)
		for m in sched sched-goal sched-duplex sched-threads sched-threads-nice sched-ab nosched; do
			[ -f "$out/$t-lat-$m-1.json" ] || continue
			ip=$(f "$t-lat-idle-$m" .classes[0].lat_ns.p99)
			rp=$(f "$t-lat-$m" .classes[0].lat_ns.p99) wb=$(f "$t-lat-$m" .classes[1].mbps)
			rx=$(ratio "$t-lat-$m" .classes[0].lat_ns.p99 "$t-lat-idle-$m" .classes[0].lat_ns.p99)
			wx=$(ratio "$t-lat-$m" .classes[1].mbps "$t-lat-wsolo" .classes[0].mbps)
			qp=$(f "$t-lat-$m" '.classes[0].queue_ns.p99 // 0') dp=$(f "$t-lat-$m" '.classes[0].disk_ns.p99 // 0')
			n=$m; [ "$m" = sched-ab ] && n="sched (A: $(basename "$ab"))"
			[ "$m" = sched-goal ] && n="sched, goal $(jq -r '.sched.latency_goal_ns / 1000 | floor' "$out/$t-lat-$m-1.json") us"
			[ "$m" = sched-threads ] && n="sched, thread per class"
			[ "$m" = sched-threads-nice ] && n="sched, thread per class, writer nice $(jq -r '.classes[1].nice' "$out/$t-lat-$m-1.json")"
			echo "| $t: reader p99 / writer beside each other, $n | $((rp / 1000)) us ($(jq -n "$rx * 100 | floor / 100")x its idle run, idle p99 $((ip / 1000)) us; queue p99 $((qp / 1000)) us, disk p99 $((dp / 1000)) us) / $(jq -n "$wb | floor") MB/s ($(jq -n "$wx * 100 | floor")% of solo $(jq -n "$wsolo | floor")) | <= 2x, >= 80% | $(jq -n "$rx <= 2 and $wx >= 0.8") |"
		done
	done
	[ -f "$out/zram-kernel.txt" ] &&
		echo "| zram, the kernel's answers (mq-deadline, kyber, iocost) | not available: $(cat "$out/zram-kernel.txt") | (comparison) | |"
	for k in "$out"/k-*-r.json; do
		[ -f "$k" ] || continue
		n=${k#"$out"/k-}; n=${n%-r.json}
		echo "| loop, kernel $n: reader p99 / writer (two processes, 1 run) | $(jq '.lat_ns.p99 / 1000 | floor' "$k") us / $(jq '.mbps | floor' "${k%-r.json}-w.json") MB/s | (comparison) | |"
	done
	[ -f "$out/overhead.txt" ] &&
		echo "| pass-through overhead, mem null, ns per I/O | $(cat "$out/overhead.txt") | <= 100 | $(jq -n "$(cat "$out/overhead.txt") <= 100") |"
	echo "# run time $(( $(date +%s) - t0 )) s"
	exit 0
fi
zram= loopdev= loopfile=
cleanup() {
	[ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null || true
	[ -n "$loopfile" ] && rm -f "$loopfile" || true
	[ -n "$zram" ] && echo "$zram" >/sys/class/zram-control/hot_remove 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 143' INT TERM

case $target in
file)
	dir=${RAWIO_BENCH_DIR:-/work/rawio-bench}
	mkdir -p "$dir"
	dev=$dir/sched.img
	[ -f "$dev" ] || "$R" bench --file "$dev" --create --fill --size 1g --rw write --bs 1m \
		--qd 8 --runtime 0 --no-progress >/dev/null
	tune=$dir
	tune_opts=()
	;;
zram)
	zram=$(cat /sys/class/zram-control/hot_add)
	echo 1G >/sys/block/zram$zram/disksize
	dev=/dev/zram$zram
	"$R" bench --file "$dev" --rw write --bs 1m --qd 8 --runtime 0 --no-progress >/dev/null
	tune=$dev
	tune_opts=(--write-device)
	;;
loop)
	loopfile=${RAWIO_BENCH_DIR:-/work/rawio-bench}/sched-loop.img
	mkdir -p "$(dirname "$loopfile")"
	truncate -s 1g "$loopfile"
	loopdev=$(losetup -f --show --direct-io=on "$loopfile")
	dev=$loopdev
	"$R" bench --file "$dev" --rw write --bs 1m --qd 8 --runtime 0 --no-progress >/dev/null
	tune=$dev
	tune_opts=(--write-device)
	;;
mem)
	dev=mem:1g
	tune=$dev
	tune_opts=()
	;;
*) echo "unknown target $target" >&2; exit 2 ;;
esac

echo "# $(date -u +%F\ %T) $(uname -r) target=$target ($dev) runtime=${runtime}s rounds=$rounds"
echo "# uptime: $(uptime)"
[ -z "$props" ] && [ -n "$models" ] && [ -f "$models/$target.yaml" ] && props=$models/$target.yaml
if [ -n "$props" ]; then
	[ "$props" = "$(realpath "$out/$target.yaml")" ] || cp "$props" "$out/$target.yaml"
	echo "## model ($target): given, $props"
else
	"$R" iotune "$tune" "${tune_opts[@]}" --duration "$tune_s" --properties-file "$out/$target.yaml" \
		>/dev/null 2>"$out/$target-iotune.txt" || { cat "$out/$target-iotune.txt" >&2; exit 1; }
	echo "## iotune ($target, --duration $tune_s)"
fi
sed 's/^/    /' "$out/$target.yaml"

kernel_why_no_iocost() {
	local c2
	c2=$(findmnt -t cgroup2 -no TARGET | head -1)
	if [ -z "$c2" ]; then
		echo "no cgroup v2 mounted"
	elif ! grep -qw io "$c2/cgroup.controllers"; then
		echo "the io controller is not on cgroup v2 ($c2) here: $(findmnt -t cgroup -no TARGET,OPTIONS | awk '/blkio/ { print $1 }') holds it (v1)"
	elif [ ! -e "$c2/io.cost.qos" ]; then
		echo "no io.cost.qos (kernel without iocost)"
	else
		echo "available"
	fi
}
b() { "${RAWIO_BENCH_BIN:-$R}" bench --file "$dev" --runtime "${runtime}s" --ramp 1s --no-progress \
	--json "$@"; }

if [ "$profile" = 1 ]; then
	# Where a read's time goes beside the writer: the scheduled run traced for 1 s in its
	# middle (the tracepoints only, no stacks: a few % of CPU at 10K events/s).
	command -v perf >/dev/null && command -v python3 >/dev/null ||
		{ echo "--profile needs perf and python3" >&2; exit 77; }
	g=(); [ -n "$lgoal" ] && g=(--latency-goal "$lgoal")
	echo "## profile ($target, $dev): reader randread 4k QD 4 beside writer write 1m QD 8, scheduler 1000:100 ${lgoal:+goal $lgoal}"
	b --class reader:1000:randread:4k:4 >"$out/$target-prof-idle.json"
	b --class reader:1000:randread:4k:4 --class writer:100:write:1m:8 \
		--io-properties "$out/$target.yaml" "${g[@]}" >"$out/$target-prof.json" &
	bp=$!
	sleep "$(( (runtime + 1) / 2 + 1 ))"
	perf record -q -a -o "$out/$target-prof.data" -e io_uring:io_uring_queue_async_work \
		-e io_uring:io_uring_complete -e io_uring:io_uring_file_get -e sched:sched_switch \
		-e sched:sched_wakeup -e sched:sched_wakeup_new -- sleep 1 2>/dev/null
	wait $bp
	jq -r '"reader alone: p50 \(.classes[0].lat_ns.p50/1000|floor) us, p99 \(.classes[0].lat_ns.p99/1000|floor) us"' "$out/$target-prof-idle.json"
	jq -r '"beside the writer: reader p50 \(.classes[0].lat_ns.p50/1000|floor) us, p99 \(.classes[0].lat_ns.p99/1000|floor) us (queue p99 \((.classes[0].queue_ns.p99 // 0)/1000|floor), disk p99 \((.classes[0].disk_ns.p99 // 0)/1000|floor)); writer \(.classes[1].mbps|floor) MB/s; \(.sched_desc // "")"' "$out/$target-prof.json"
	perf script -i "$out/$target-prof.data" -F comm,tid,cpu,time,event,trace 2>/dev/null |
		python3 -c "$(cat <<'PY'
# Per 4 KiB read punted to io-wq, by io_uring's request: queued (io_uring_queue_async_work,
# in the submitter) -> issued (io_uring_file_get, in the io-wq worker that runs it) -> its
# CQE posted (io_uring_complete). A read whose worker issued a write after the read was
# queued waited in io-wq's list behind writes; a read whose worker was woken after it was
# queued splits into the wait for that wake-up and the run queue after it (and who held
# that CPU meanwhile).
import bisect, collections, re, sys
ev = []
pat = re.compile(r'\s*(\S.*?)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)')
for l in sys.stdin:
    m = pat.match(l)
    if m:
        comm, tid, cpu, t, e, r = m.groups()
        ev.append((float(t), int(tid), int(cpu), e, r))
ev.sort(key=lambda x: x[0])
op, reads, issue, comp = {}, [], collections.defaultdict(list), collections.defaultdict(list)
by_worker = collections.defaultdict(list)  # tid -> [(t, is_write)]
wake, swin, runs = collections.defaultdict(list), collections.defaultdict(list), collections.defaultdict(list)
nr = nw = nqr = nqw = 0
for t, tid, cpu, e, r in ev:
    if e == 'io_uring:io_uring_queue_async_work':
        req = re.search(r'request (\S+),', r).group(1)
        op[req] = 'READ' in re.search(r'opcode (\S+),', r).group(1)
        nqr, nqw = nqr + op[req], nqw + (not op[req])
        if op[req]:
            reads.append((t, req))
    elif e == 'io_uring:io_uring_file_get':
        req = re.search(r'req (\S+),', r).group(1)
        if req in op:
            issue[req].append((t, tid, cpu))
            by_worker[tid].append((t, not op[req]))
            nr, nw = nr + op[req], nw + (not op[req])
    elif e == 'io_uring:io_uring_complete':
        comp[re.search(r'req (\S+),', r).group(1)].append(t)
    elif e == 'sched:sched_switch':
        n = re.search(r'next_comm=(.*) next_pid=(\d+)', r)
        runs[cpu].append((t, re.sub(r'-\d+$', '', n.group(1))))
        swin[int(n.group(2))].append(t)
    elif e.startswith('sched:sched_wakeup'):
        wake[int(re.search(r' pid=(\d+)', r).group(1))].append(t)
rt = {c: [x[0] for x in v] for c, v in runs.items()}
bw = {k: [x[0] for x in v] for k, v in by_worker.items()}
def after(l, t):
    i = bisect.bisect_left(l, t)
    return l[i] if i < len(l) else None
def before(l, t):
    i = bisect.bisect_right(l, t)
    return l[i - 1] if i else None
rows, held, behind = [], collections.Counter(), 0
for t0, req in reads:
    ii = [x for x in issue[req] if x[0] >= t0]
    if not ii:
        continue
    t1, tid, cpu = ii[0]
    t2 = after(comp[req], t1)
    if t2 is None:
        continue
    k0, k1 = bisect.bisect_right(bw[tid], t0), bisect.bisect_left(bw[tid], t1)
    if any(by_worker[tid][k][1] for k in range(k0, k1)):
        behind += 1
    w, si = before(wake[tid], t1), before(swin[tid], t1)
    rq = lw = None
    if w is not None and w >= t0 and si is not None and si >= w:
        rq, lw = si - w, w - t0
        rl = runs.get(cpu, [])
        i, tt = max(0, bisect.bisect_right(rt.get(cpu, []), w) - 1), w
        while i < len(rl) and tt < si:
            nxt = min(rl[i + 1][0] if i + 1 < len(rl) else si, si)
            held[rl[i][1]] += max(0.0, nxt - tt)
            tt, i = nxt, i + 1
    rows.append((t1 - t0, lw, rq, t2 - t1, t2 - t0))
print(f"traced 1 s: {nqr} reads and {nqw} writes (parts) punted to io-wq; issued by its workers: {nr} reads, {nw} writes")
if not rows:
    sys.exit(0)
print(f"reads whose worker issued a write between the read's queueing and its issue (queued behind writes in io-wq's list): {behind} of {len(rows)} ({behind * 100 // len(rows)}%)")
def pct(i, p):
    v = sorted(r[i] for r in rows if r[i] is not None)
    return v[min(len(v) - 1, int(len(v) * p))] * 1e6 if v else float('nan')
print("| a read's time (us) | reads | p50 | p90 | p99 | max |")
print("|---|---:|---:|---:|---:|---:|")
for name, i in (("queued -> issued by an io-wq worker", 0),
                ("  reads whose worker was woken after: queued -> wake-up", 1),
                ("  reads whose worker was woken after: wake-up -> on a CPU", 2),
                ("issued -> CQE posted (the read; the submitter's task work)", 3),
                ("queued -> CQE posted", 4)):
    n = sum(r[i] is not None for r in rows)
    print(f"| {name} | {n} | {pct(i, .5):.0f} | {pct(i, .9):.0f} | {pct(i, .99):.0f} | {pct(i, 1):.0f} |")
tot = sum(held.values()) or 1
print("who held the CPU while a woken read worker waited: " +
      ", ".join(f"{k} {v * 100 / tot:.0f}%" for k, v in held.most_common(5)))
PY
)"
	echo "# uptime: $(uptime)"
	exit 0
fi

if [ "$cache" != 0 ]; then
	# A cache (CACHE.img) over a backing file (BACKING.img) beside the target; both on the
	# disk iotune measured, each device gets its model.
	cdir=$(dirname "$dev")
	[ "$target" = file ] || { echo "--cache needs --target file" >&2; exit 2; }
	echo "## the cache: 4 readers (4 KiB hits) alone and during drain at nr_batched_migration 128"
	echo "(sched: the cache device's read class during the drain: p99 of its wait for a grant (queue)"
	echo "and of its time at the disk; the migrate class's queue p99; how often the in-flight bound held)"
	echo "| run | sched | reads/s alone | p99 alone us | reads/s in drain | p50 in drain us | p99 in drain us | p99 ratio | drain s | read queue p99 us | read disk p99 us | migrate queue p99 us | bound waits |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	cb() { "$R" cache bench drain "$cdir/sched-cache.img" "$cdir/sched-backing.img" --size 512m \
		--backing-size 1g --bytes "$cache_bytes" --batch 128 --readers 4 --force --json "$@"; }
	crow() { jq -r --arg n "$1" --arg s "$2" '"| \($n) | \($s) | \(.idle_read_iops|floor) |
		\(.idle_read_p99_ns/1000|floor) | \(.read_iops|floor) | \(.read_p50_ns/1000|floor) |
		\(.read_p99_ns/1000|floor) | \((.read_p99_ns/.idle_read_p99_ns)*100|floor/100) |
		\((.seconds*100|floor)/100) | \(if .read_queue_p99_ns then
		"\(.read_queue_p99_ns/1000|floor) | \(.read_disk_p99_ns/1000|floor) |
		\(.migrate_queue_p99_ns/1000|floor) | \(.bound_waits) |" else "- | - | - | - |" end)"' |
		tr -d '\n\t'; echo; }
	for i in $(seq 1 "$rounds"); do
		cb >"$out/cache-nosched-$i.json"
		cb --io-properties "$out/$target.yaml" >"$out/cache-sched-$i.json"
		crow "$i" no <"$out/cache-nosched-$i.json"
		crow "$i" yes <"$out/cache-sched-$i.json"
	done
	rm -f "$cdir/sched-cache.img" "$cdir/sched-backing.img"
	echo "# uptime: $(uptime)"
	[ "$cache" = 2 ] && exit 0
fi

# Each class at QD 64: deeper than the in-flight bound lets the whole disk have, so that both
# stay backlogged in the scheduler (at QD 32 the 400-share class runs out of requests first).
if [ "$fair" = 1 ]; then
echo "## fairness ($target): two classes at QD 64 each, 4 KiB random"
echo "| pattern | shares | IOPS a | IOPS b | IOPS b/a | disk time b/a | goal |"
echo "|---|---|---:|---:|---:|---:|---:|"
for rw in randread randrw; do
	for sb in 400 200 800; do
		j=$(b --rw "$rw" --rwmixread 70 --qd 64 --class a:100 --class "b:$sb" \
			--io-properties "$out/$target.yaml")
		echo "$j" >"$out/$target-fair-$rw-$sb.json"
		jq -r --arg rw "$rw" --arg sb "$sb" '"| \($rw) | 100:\($sb) | \(.classes[0].iops|floor) |
			\(.classes[1].iops|floor) | \((.classes[1].iops/.classes[0].iops)*100|floor/100) |
			\((.classes[1].cost_ns/.classes[0].cost_ns)*100|floor/100) | \(($sb|tonumber)/100) |"' \
			<<<"$j" | tr -d '\n\t'
		echo
	done
done
fi

echo "## latency under a bulk writer ($target): reader randread 4k QD 4, writer write 1m QD 8"
echo "| run | reader IOPS | reader p50 us | reader p99 us | reader queue p99 us | reader disk p99 us | writer MB/s |"
echo "|---|---:|---:|---:|---:|---:|---:|"
row() { jq -r --arg n "$1" '"| \($n) | \(.classes[0].iops|floor) | \(.classes[0].lat_ns.p50/1000|floor) |
	\(.classes[0].lat_ns.p99/1000|floor) | \((.classes[0].queue_ns.p99 // 0)/1000|floor) |
	\((.classes[0].disk_ns.p99 // 0)/1000|floor) |
	\(if (.classes|length) > 1 then (.classes[1].mbps|floor) else "-" end) |"' |
	tr -d '\n\t'; echo; }
# The reader alone is run right before each run beside the writer, on the same file region
# with the same offsets (bench's fixed seed), after the same kind of run (one that wrote the
# file): each loaded run has its own idle baseline, measured on the disk (and the host's cache
# of a virtual disk) in the state the loaded run finds. "sched duplex" is the model with
# Seastar's duplex: reads and writes each get a bucket and an in-flight bound.
dmodel=$out/$target-duplex.yaml
if [ "$duplex" = 0 ] || grep -q '^ *duplex:' "$out/$target.yaml"; then
	dmodel=
else
	{ cat "$out/$target.yaml"; echo "    duplex: true"; } >"$dmodel"
fi
R1=(--class reader:1000:randread:4k:4)
W1=(--class writer:100:write:1m:8)
for i in $(seq 1 "$rounds"); do
	b "${W1[@]}" >"$out/$target-lat-wsolo-$i.json"
	jq -r --arg i "$i" '"| writer alone (\($i)) | - | - | - | - | - | \(.classes[0].mbps|floor) |"' \
		<"$out/$target-lat-wsolo-$i.json"
	modes=(nosched sched)
	[ -n "$lgoal" ] && modes+=(sched-goal)
	[ -n "$dmodel" ] && modes+=(sched-duplex)
	[ "$cthreads" = 1 ] && modes+=(sched-threads)
	[ "$cthreads" = 1 ] && [ -n "$wnice" ] && modes+=(sched-threads-nice)
	[ -n "$ab" ] && modes+=(sched-ab)
	[ "$equal" = 0 ] || modes+=(sched1)
	for m in "${modes[@]}"; do
		b "${R1[@]}" >"$out/$target-lat-idle-$m-$i.json"
		case $m in
		nosched) b "${R1[@]}" "${W1[@]}" --no-sched ;;
		sched) b "${R1[@]}" "${W1[@]}" --io-properties "$out/$target.yaml" ;;
		sched-duplex) b "${R1[@]}" "${W1[@]}" --io-properties "$dmodel" ;;
		sched-threads) b "${R1[@]}" "${W1[@]}" --io-properties "$out/$target.yaml" --class-threads ;;
		sched-threads-nice) b "${R1[@]}" "${W1[0]}" "${W1[1]}:$wnice" --io-properties "$out/$target.yaml" --class-threads ;;
		sched-goal) b "${R1[@]}" "${W1[@]}" --io-properties "$out/$target.yaml" --latency-goal "$lgoal" ;;
		sched-ab) RAWIO_BENCH_BIN=$ab b "${R1[@]}" "${W1[@]}" --io-properties "$out/$target.yaml" ;;
		sched1) b --class reader:100:randread:4k:4 "${W1[@]}" --io-properties "$out/$target.yaml" ;;
		esac >"$out/$target-lat-$m-$i.json"
		case $m in
		nosched) n="no scheduler" ;;
		sched) n="scheduler 1000:100" ;;
		sched-duplex) n="scheduler 1000:100, duplex" ;;
		sched-threads) n="scheduler 1000:100, thread per class" ;;
		sched-threads-nice) n="scheduler 1000:100, thread per class, writer nice $wnice" ;;
		sched-goal) n="scheduler 1000:100, goal $lgoal" ;;
		sched-ab) n="scheduler 1000:100, A: $(basename "$ab")" ;;
		sched1) n="scheduler 100:100" ;;
		esac
		row "reader alone, before $m ($i)" <"$out/$target-lat-idle-$m-$i.json"
		row "both, $n ($i)" <"$out/$target-lat-$m-$i.json"
	done
done

if [ "$kernel" = 1 ] && [ "$target" = loop ]; then
	echo "## the kernel's answers on the same loop device (reader and writer as two processes)"
	q=/sys/block/${loopdev#/dev/}/queue/scheduler
	echo "| kernel setting | reader IOPS | reader p99 us | writer MB/s |"
	echo "|---|---:|---:|---:|"
	pair() { # NAME [cgroup-reader cgroup-writer]
		local rd=() wr=()
		[ $# -gt 1 ] && rd=(bash -c "echo \$\$ >$2/cgroup.procs; exec \"\$0\" \"\$@\"")
		[ $# -gt 1 ] && wr=(bash -c "echo \$\$ >$3/cgroup.procs; exec \"\$0\" \"\$@\"")
		"${wr[@]}" "$R" bench --file "$dev" --rw write --bs 1m --qd 8 \
			--runtime "$((runtime + 2))s" --ramp 0 --no-progress --json >"$out/k-$1-w.json" &
		local wp=$!
		sleep 1
		"${rd[@]}" "$R" bench --file "$dev" --rw randread --qd 4 --runtime "${runtime}s" \
			--ramp 0 --no-progress --json >"$out/k-$1-r.json"
		wait $wp
		echo "| $1 | $(jq '.iops|floor' "$out/k-$1-r.json") |" \
			"$(jq '.lat_ns.p99/1000|floor' "$out/k-$1-r.json") |" \
			"$(jq '.mbps|floor' "$out/k-$1-w.json") |"
	}
	for s in none mq-deadline kyber; do
		echo "$s" >"$q" 2>/dev/null || { echo "| $s | (not available) | | |"; continue; }
		pair "$s"
	done
	echo none >"$q"
	# cgroup v2 io.weight under iocost, enabled for this loop device only.
	cg=$(findmnt -t cgroup2 -no TARGET | head -1)
	mm=$(cat /sys/block/${loopdev#/dev/}/dev)
	if [ -w $cg/io.cost.qos ] && grep -qw io $cg/cgroup.controllers &&
		echo "$mm enable=1" >$cg/io.cost.qos 2>/dev/null; then
		echo "+io" >$cg/cgroup.subtree_control 2>/dev/null || true
		mkdir -p $cg/rawio-rd $cg/rawio-wr
		if echo "default 1000" >$cg/rawio-rd/io.weight && echo "default 100" >$cg/rawio-wr/io.weight; then
			pair "iocost 1000:100" $cg/rawio-rd $cg/rawio-wr
		else
			echo "| iocost | (io.weight refused) | | |"
		fi
		echo "$mm enable=0" >$cg/io.cost.qos 2>/dev/null || true
		rmdir $cg/rawio-rd $cg/rawio-wr 2>/dev/null || true
	else
		echo "| iocost | (not available here: $(kernel_why_no_iocost)) | | |"
	fi
fi
if [ "$target" = zram ] && [ "$kernel" = 1 ]; then
	# The kernel's answers on the same device: zram is bio-based (no blk-mq queue), so it
	# has no I/O scheduler to choose, and iocost needs the io controller on cgroup v2.
	{
		[ -e "/sys/block/zram$zram/queue/scheduler" ] &&
			echo "queue/scheduler: $(cat "/sys/block/zram$zram/queue/scheduler")" ||
			echo "no queue/scheduler (zram is bio-based: no mq-deadline or kyber)"
		echo "iocost: $(kernel_why_no_iocost)"
	} | paste -sd';' | sed 's/;/; /' >"$out/zram-kernel.txt"
fi

[ "$overhead" = 1 ] || exit 0
echo "## scheduler overhead: mem null mode, one class, QD 32 (ns of CPU per I/O, medians of $rounds)"
ov() { "$R" bench --engine mem --null --file mem:1g --qd 32 --runtime 2s --ramp 200ms \
	--no-progress --json --class a:100 "$@" | jq '.cpu_ns_per_io|floor'; }
with= without=
for _ in $(seq 1 "$rounds"); do
	with+=" $(ov)"
	without+=" $(ov --no-sched)"
done
med() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ a[NR] = $1 }
	END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "pass-through:$with (median $(med "$with")); no scheduler:$without (median $(med "$without"))"
echo $(( $(med "$with" | cut -d. -f1) - $(med "$without" | cut -d. -f1) )) >"$out/overhead.txt"
echo "overhead per I/O: $(cat "$out/overhead.txt") ns"
echo "# uptime: $(uptime)"
