# Shared by the frontend shell tests; source it after `set -euo pipefail`.
. "$RAWIO_TESTS/lib.sh"

need_tool nbdkit
[ -n "${RAWIO_PLUGIN:-}" ] && [ -r "$RAWIO_PLUGIN" ] || skip "RAWIO_PLUGIN is not set to the plugin"

# nbdkit_run ARGS...: nbdkit with the sanitizer runtimes a sanitized plugin needs.
nbdkit_run() {
	if [ -n "${RAWIO_NBDKIT_PRELOAD:-}" ]; then
		LD_PRELOAD=$RAWIO_NBDKIT_PRELOAD ASAN_OPTIONS=detect_leaks=0 nbdkit "$@"
	else
		nbdkit "$@"
	fi
}

# serve PARAMS... -- CMD: nbdkit -U - on the plugin, running CMD with $uri set.
serve() {
	local params=()
	while [ "$1" != "--" ]; do
		params+=("$1")
		shift
	done
	shift
	nbdkit_run --exit-with-parent -U - "$RAWIO_PLUGIN" "${params[@]}" --run "$*"
}

# fresh_cache DIR CACHE_SIZE BACKING_SIZE: format DIR/cache.img over DIR/backing.img.
fresh_cache() {
	rm -f "$1/cache.img" "$1/backing.img"
	"$RAWIO" cache format "$1/cache.img" "$1/backing.img" --size "$2" --backing-size "$3" \
		--segment-size 256k >/dev/null
}

# attach ARGS...: start `rawio export --attach ARGS` in the background, its output in
# $work/export.out and .err; wait for its device. Sets pid and dev.
attach() {
	: >"$work/export.out"
	"$RAWIO" export --attach "$@" >"$work/export.out" 2>"$work/export.err" &
	pid=$!
	for _ in $(seq 300); do
		grep -q '^device: ' "$work/export.out" && break
		kill -0 "$pid" 2>/dev/null || { cat "$work/export.err" >&2; fail "rawio export died"; }
		sleep 0.1
	done
	dev=$(awk '/^device: /{print $2}' "$work/export.out")
	[ -n "$dev" ] || { cat "$work/export.err" >&2; fail "no device from rawio export"; }
	echo "ok: rawio export --attach $* -> $dev"
}
