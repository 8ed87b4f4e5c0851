# Shared by the fsqual shell tests; source it after `set -euo pipefail`.
# Exit codes: 0 pass, 1 fail, 77 skip.
. "$RAWIO_TESTS/dev/lib.sh"

# The rows every run prints, by JSON id.
FSQUAL_ROWS="append_bs_qd1 append_bs_qd3 fill_bs_qd3 fill_bs_qd7 fill_dma_qd1 overwrite_dma_qd1
overwrite_dsync_dma_qd1 overwrite_dsync_dma_qd3 read_dma_qd30 nowait prealloc_bs_qd3
fill_bs_qd3_memalign"

# fsqual_check_text FILE ENGINES VERDICT_RE: the text output of a run over ENGINES
# (e.g. "aio uring") has the header, every row once per engine with a verdict
# matching VERDICT_RE, and a traits line per engine.
fsqual_check_text() {
	local f=$1 engines=$2 re=$3 n k
	n=$(wc -w <<<"$engines")
	for k in 'memory DMA alignment:' 'disk DMA alignment:' 'filesystem block size:' \
		'filesystem type:' 'kernel version:'; do
		[ "$(grep -c "^$k" "$f")" -eq 1 ] || fail "header line '$k' missing or repeated"
	done
	[ "$(grep -c '^engine:' "$f")" -eq "$n" ] || fail "expected $n engine lines"
	for k in 'size-changing, append, blocksize [0-9]+, iodepth 1\)' \
		'size-changing, append, blocksize [0-9]+, iodepth 3\)' \
		'size-unchanging, append, blocksize [0-9]+, iodepth 3\)' \
		'size-unchanging, append, blocksize [0-9]+, iodepth 7\)' \
		'size-unchanging, append, blocksize [0-9]+, iodepth 1\)' \
		'size-unchanging, overwrite, blocksize [0-9]+, iodepth 1\)' \
		'size-unchanging, overwrite, blocksize [0-9]+, O_DSYNC, iodepth 1\)' \
		'size-unchanging, overwrite, blocksize [0-9]+, O_DSYNC, iodepth 3\)' \
		'^context switch per read io \(size-unchanging, written data, blocksize [0-9]+, iodepth 30\)' \
		'^RWF_NOWAIT writes answered EAGAIN \(' \
		'size-unchanging, preallocated, blocksize [0-9]+, iodepth 3\)' \
		'buffer alignment [0-9]+, iodepth 3\)'; do
		[ "$(grep -cE -- "$k.*: .*\(($re)\)\$" "$f")" -eq "$n" ] ||
			fail "row /$k/ with verdict /$re/ not there $n times"
	done
	[ "$(grep -c '^traits for ' "$f")" -eq "$n" ] || fail "expected $n traits lines"
	echo "ok: text output has the header, every row and the traits for: $engines"
}

# fsqual_check_json FILE ENGINES VERDICT_RE: the same for --json.
fsqual_check_json() {
	local f=$1 engines=$2 re=$3 e id
	jq -e . "$f" >/dev/null || fail "not JSON: $(head -c 300 "$f")"
	for k in mem_align disk_align fs_block_size fs_type kernel_release meaningful; do
		jq -e "has(\"$k\")" "$f" >/dev/null || fail "JSON has no $k"
	done
	[ "$(jq -r '[.runs[].engine] | join(" ")' "$f")" = "$engines" ] ||
		fail "JSON runs are not: $engines"
	for e in $engines; do
		for id in $FSQUAL_ROWS; do
			jq -e --arg e "$e" --arg id "$id" --arg re "^($re)\$" \
				'.runs[] | select(.engine == $e) | .rows[] | select(.id == $id) |
				 (.verdict | test($re)) and .ios > 0 and .verdict != "FAILED"' "$f" >/dev/null ||
				fail "JSON: $e row $id missing, failed, or verdict not /$re/"
		done
		jq -e --arg e "$e" '.runs[] | select(.engine == $e) | .traits | has("nowait_writes")' \
			"$f" >/dev/null || fail "JSON: $e has no traits"
	done
	if [[ " $engines " == *" uring "* ]]; then
		jq -e '.runs[] | select(.engine == "uring") | .rows | all(.iowq.workers >= 0)' "$f" \
			>/dev/null || fail "JSON: uring rows have no iowq"
	fi
	echo "ok: JSON has the header, every row and the traits for: $engines"
}

# fsqual_run_dir DIR FS: the checks of a qualification of DIR (on FS) with both engines.
fsqual_run_dir() {
	local dir=$1 fs=$2 out
	out=$(mktemp)
	"$RAWIO" fsqual "$dir" --ios 200 >"$out" 2>&1 || { cat "$out"; rm -f "$out"; fail "rawio fsqual $dir failed"; }
	cat "$out"
	grep -q "^filesystem type: *$fs" "$out" || { rm -f "$out"; fail "filesystem type is not $fs"; }
	fsqual_check_text "$out" "aio uring" 'GOOD|BAD'
	"$RAWIO" fsqual "$dir" --ios 100 --json >"$out" || { rm -f "$out"; fail "rawio fsqual --json failed"; }
	fsqual_check_json "$out" "aio uring" 'GOOD|BAD'
	[ "$(jq -r .fs_type "$out")" = "$fs" ] || fail "JSON fs_type is not $fs"
	[ "$(jq -r .meaningful "$out")" = true ] || fail "JSON says a $fs run is meaningless"
	rm -f "$out"
	# Nothing left behind: the files were unlinked from the start (or at once).
	[ -z "$(ls -A "$dir" | grep rawio-fsqual || true)" ] || fail "temporary files left in $dir"
}
