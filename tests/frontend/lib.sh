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
