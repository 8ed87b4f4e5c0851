# NBD tests: start nbdkit on unix sockets in a temp dir, stop them on every exit path.
# Source after tests/lib.sh. Sets $dir (the temp dir). Skips (77) without nbdkit.
need_tool nbdkit
dir=$(mktemp -d "${TMPDIR:-/tmp}/rawio-nbd.XXXXXX")
nbd_cleanup() {
	local p
	for p in "$dir"/*.pid; do
		[ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap nbd_cleanup EXIT

# nbd_start NAME NBDKIT-ARGS...: serve on $dir/NAME.sock (pidfile $dir/NAME.pid, gone with
# this shell); sets $uri. Not in $(...): nbdkit would exit with the subshell.
nbd_start() {
	local name=$1 i
	shift
	rm -f "$dir/$name.pid" "$dir/$name.sock"
	nbdkit -U "$dir/$name.sock" -P "$dir/$name.pid" --exit-with-parent "$@" \
		2>>"$dir/$name.log" &
	for i in $(seq 200); do
		[ -s "$dir/$name.pid" ] && break
		sleep 0.05
	done
	[ -s "$dir/$name.pid" ] || { cat "$dir/$name.log" >&2; fail "nbdkit $* did not start"; }
	uri="nbd+unix:///?socket=$dir/$name.sock"
}

# nbd_kill NAME [SIGNAL]: stop that server and wait until it is gone.
nbd_kill() {
	local pid i
	pid=$(cat "$dir/$1.pid")
	kill "-${2:-TERM}" "$pid" 2>/dev/null || true
	for i in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	rm -f "$dir/$1.pid"
}
