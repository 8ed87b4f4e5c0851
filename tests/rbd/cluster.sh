#!/usr/bin/env bash
# The rbd tests' fixture: cluster.sh start|stop DIR. start makes one throwaway cluster for
# every rbd test (scripts/ceph-cluster.sh) and has it stopped if ctest dies; where Ceph is
# not installed it starts nothing and passes (each rbd test then skips with 77).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cluster=$root/scripts/ceph-cluster.sh
cmd=$1 dir=$2
case $cmd in
start)
	# What an interrupted earlier run left (only its own PIDs are signalled).
	"$cluster" stop "$dir"
	if ! "$cluster" avail; then
		echo "Ceph is not installed: the rbd tests will skip (scripts/deps.sh installs it)"
		exit 0
	fi
	# The watcher stops the cluster if ctest (our parent) goes away without the cleanup.
	"$cluster" start "$dir" --no-mgr --pgs 8 --watch "$PPID"
	;;
stop) "$cluster" stop "$dir" ;;
*) exit 2 ;;
esac
