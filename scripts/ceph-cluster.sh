#!/usr/bin/env bash
# A throwaway single-node Ceph cluster in one directory (../shared/ceph.md has the facts).
#
#   scripts/ceph-cluster.sh start DIR [--no-mgr] [--pgs N] [--watch PID]
#   scripts/ceph-cluster.sh stop DIR
#   scripts/ceph-cluster.sh avail        exit 0 if the Ceph daemons and tools are installed
#
# start: one mon (a), one mgr (x; --no-mgr leaves it out: pools and I/O work without it),
# one BlueStore OSD on an 8 GiB sparse file, all on 127.0.0.1 with mon ports chosen free so
# two clusters can run side by side, everything (data, logs, sockets, pid files, keyring)
# under DIR. Creates pool rbd (--pgs placement groups, default 32: the tests take 8, which
# peer sooner; benchmarks keep 32, which spread the OSD's work) and image rbd/test (1 GiB, layering only: no exclusive lock,
# whose holder dying would stall the next client for about 28 s). Prints DIR/ceph.conf;
# clients use it with CEPH_CONF=DIR/ceph.conf or rbd:rbd/test:conf=DIR/ceph.conf. With
# --watch PID, a watcher stops the cluster when PID exits (a test runner killed mid-run).
#
# stop: SIGKILL to the PIDs in DIR's pid files only (OSD first), waits until they are gone,
# removes DIR. Nothing is kept, so nothing needs a clean shutdown (SIGTERM cost the OSD 3-5 s
# of BlueStore unmount). Safe to run twice, or on a cluster that failed to start.
set -euo pipefail

die() {
	echo "ceph-cluster.sh: $*" >&2
	exit 1
}

need=(ceph-mon ceph-osd ceph-authtool monmaptool ceph rbd)

avail() {
	local t
	for t in "${need[@]}"; do
		command -v "$t" >/dev/null 2>&1 || return 1
	done
	return 0
}

# pid_of NAME: the PID in DIR/NAME.pid if that process still runs with our conf, else nothing.
pid_of() {
	local f="$dir/$1.pid" pid
	[ -s "$f" ] || return 0
	pid=$(cat "$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	# Never signal a PID that was reused by someone else: it must name our directory.
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir/ceph.conf" && echo "$pid"
	return 0
}

wait_gone() {
	local deadline=$(($(date +%s) + $1)) pid
	shift
	while :; do
		local alive=()
		for pid in "$@"; do
			kill -0 "$pid" 2>/dev/null && alive+=("$pid")
		done
		[ ${#alive[@]} -eq 0 ] && return 0
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

stop() {
	local osd mgr mon pids=()
	[ -d "$dir" ] || return 0
	osd=$(pid_of osd.0)
	mgr=$(pid_of mgr.x)
	mon=$(pid_of mon.a)
	for p in $osd $mgr $mon; do
		kill -KILL "$p" 2>/dev/null || true
		pids+=("$p")
	done
	if [ ${#pids[@]} -gt 0 ] && ! wait_gone 10 "${pids[@]}"; then
		die "processes ${pids[*]} of $dir do not die"
	fi
	wp=$(cat "$dir/watch.pid" 2>/dev/null || true)
	if [[ $wp =~ ^[0-9]+$ ]] && [ "$wp" != "${WATCHER_SELF:-}" ]; then
		kill -TERM "$wp" 2>/dev/null || true
	fi
	rm -rf "$dir"
}

# A free TCP port on 127.0.0.1 in 20000-29999 (nothing listening there now).
free_port() {
	local p used
	used=$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://' || true)
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 10000))
		grep -qx "$p" <<<"$used" || {
			echo "$p"
			return
		}
	done
	die "no free port"
}

write_conf() {
	local fsid=$1 p1=$2 p2=$3
	cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$p2,v1:127.0.0.1:$p1]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $dir/keyring
run dir = $dir/run
crash dir = $dir/crash
log file = $dir/\$name.log
admin socket = $dir/\$name.asok
pid file = $dir/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
[mon]
mon data = $dir/mon.\$id
mon cluster log file = $dir/cluster.log
[mgr]
mgr data = $dir/mgr.\$id
[osd]
osd data = $dir/osd.\$id
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 8589934592
bluestore fsck on mkfs = false
bluestore fsck on mount = false
bluestore debug enforce settings = ssd
bluestore rocksdb options annex = write_buffer_size=32M,max_total_wal_size=128M
osd memory target = 1073741824
[client]
rbd cache = false
# No admin socket per client: clients running side by side would fight over one path.
admin socket =
EOF
}

# run NAME CMD...: a daemon (it forks away); its stdio goes to DIR, never to our caller's pipe.
run_daemon() {
	local name=$1
	shift
	"$@" </dev/null >>"$dir/$name.out" 2>&1 || die "$* failed: $(tail -n 5 "$dir/$name.out")"
}

start() {
	local with_mgr=$1 watch=$2 pgs=$3 fsid uuid p1 p2 c i
	[ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] && die "$dir exists and is not empty"
	avail || die "needs ${need[*]} (scripts/deps.sh installs them)"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	mkdir -p "$dir/run" "$dir/crash" "$dir/mon.a" "$dir/mgr.x" "$dir/osd.0"
	# Any failure from here on takes down what was started.
	trap 'stop' EXIT
	fsid=$(cat /proc/sys/kernel/random/uuid)
	uuid=$(cat /proc/sys/kernel/random/uuid)
	p1=$(free_port)
	p2=$(free_port)
	[ "$p1" != "$p2" ] || p2=$((p1 + 1))
	write_conf "$fsid" "$p1" "$p2"
	c=(-c "$dir/ceph.conf")

	ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
	ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' \
		--cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
	ceph-authtool "$dir/keyring" --gen-key -n mgr.x --cap mon 'allow profile mgr' \
		--cap osd 'allow *' --cap mds 'allow *' >/dev/null
	ceph-authtool "$dir/keyring" --gen-key -n osd.0 --cap mon 'allow profile osd' \
		--cap mgr 'allow profile osd' --cap osd 'allow *' >/dev/null
	monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$p2,v1:127.0.0.1:$p1]" \
		"$dir/monmap" >/dev/null
	ceph-mon "${c[@]}" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" \
		</dev/null >>"$dir/mon.a.out" 2>&1 || die "ceph-mon --mkfs failed: $(tail -n 5 "$dir/mon.a.out")"
	run_daemon mon.a ceph-mon "${c[@]}" -i a
	if [ -n "$watch" ]; then
		# Detached, stdio closed: the caller (ctest) must not wait for it.
		setsid bash -c 'while kill -0 '"$watch"' 2>/dev/null && [ -d "$1" ]; do sleep 1; done
			[ -d "$1" ] && WATCHER_SELF=$$ "$2" stop "$1"' watcher "$dir" "$(realpath "$0")" \
			</dev/null >/dev/null 2>&1 &
		echo $! >"$dir/watch.pid"
	fi
	[ "$with_mgr" = 1 ] && run_daemon mgr.x ceph-mgr "${c[@]}" -i x
	timeout 30 ceph "${c[@]}" osd new "$uuid" 0 >/dev/null 2>>"$dir/ceph.out" ||
		die "ceph osd new failed: $(tail -n 5 "$dir/ceph.out")"
	ceph-osd "${c[@]}" -i 0 --mkfs --osd-uuid "$uuid" </dev/null >>"$dir/osd.0.out" 2>&1 ||
		die "ceph-osd --mkfs failed: $(tail -n 5 "$dir/osd.0.out")"
	run_daemon osd.0 ceph-osd "${c[@]}" -i 0
	for i in $(seq 300); do
		timeout 10 ceph "${c[@]}" osd dump 2>/dev/null | grep -q '^osd.0 up' && break
		[ "$i" -eq 300 ] && die "osd.0 did not come up in 60 s"
		sleep 0.2
	done
	timeout 60 ceph "${c[@]}" osd pool create rbd "$pgs" "$pgs" >/dev/null 2>>"$dir/ceph.out"
	timeout 60 rbd "${c[@]}" pool init rbd 2>>"$dir/ceph.out"
	timeout 60 rbd "${c[@]}" create --size 1G --image-feature layering rbd/test 2>>"$dir/ceph.out"
	trap - EXIT
	echo "$dir/ceph.conf"
}

cmd=${1:-}
case $cmd in
avail)
	avail
	exit
	;;
start | stop) ;;
*)
	echo "usage: $0 start DIR [--no-mgr] [--pgs N] [--watch PID] | stop DIR | avail" >&2
	exit 2
	;;
esac
[ -n "${2:-}" ] || die "$cmd: no directory given"
dir=$2
shift 2
if [ "$cmd" = stop ]; then
	[ -d "$dir" ] || exit 0
	dir=$(cd "$dir" && pwd)
	stop
	exit 0
fi
with_mgr=1 watch= pgs=32
while [ $# -gt 0 ]; do
	case $1 in
	--no-mgr) with_mgr=0 ;;
	--watch)
		watch=${2:?--watch needs a PID}
		shift
		;;
	--pgs)
		pgs=${2:?--pgs needs a number}
		[[ $pgs =~ ^[1-9][0-9]*$ ]] || die "--pgs: '$pgs' is not a number"
		shift
		;;
	*) die "unknown option $1" ;;
	esac
	shift
done
start "$with_mgr" "$watch" "$pgs"
