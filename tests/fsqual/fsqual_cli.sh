#!/usr/bin/env bash
# rawio fsqual's command line: usage errors exit 2; bad input (DIR missing,
# not a directory, not writable, no O_DIRECT) prints one line naming DIR and
# the cause and exits 1, before any I/O.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-fsqual-cli.XXXXXX")
out="$work/out"
mnt=""
cleanup() {
	set +e
	[ -n "$mnt" ] && umount "$mnt"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# one_line TEXT: $out is exactly one line, "rawio fsqual: TEXT".
one_line() {
	[ "$(wc -l <"$out")" -eq 1 ] || { cat "$out" >&2; fail "expected one line"; }
	grep -qxF "rawio fsqual: $1" "$out" || fail "expected 'rawio fsqual: $1', got: $(cat "$out")"
}

status 0 "$RAWIO" fsqual --help
grep -q 'usage: rawio fsqual \[DIR\]' "$out" || fail "usage text"
status 2 "$RAWIO" fsqual --engine sync "$work"
one_line "--engine: 'sync' is not aio, uring or all"
status 2 "$RAWIO" fsqual --ios 0 "$work"
status 2 "$RAWIO" fsqual --ios lots "$work"
status 2 "$RAWIO" fsqual "$work" "$work"
status 2 "$RAWIO" fsqual --bogus

status 1 "$RAWIO" fsqual "$work/missing"
one_line "$work/missing: No such file or directory"
status 1 "$RAWIO" fsqual "$work/missing" --json
one_line "$work/missing: No such file or directory"
touch "$work/file"
status 1 "$RAWIO" fsqual "$work/file"
one_line "$work/file: not a directory"

if [ "$(id -u)" -eq 0 ]; then
	mkdir "$work/mnt"
	if mount -t tmpfs -o ro,size=1m tmpfs "$work/mnt"; then
		mnt="$work/mnt"
		status 1 "$RAWIO" fsqual "$mnt"
		one_line "$mnt: not writable (Read-only file system)"
		umount "$mnt"
		mnt=""
	else
		echo "note: cannot mount tmpfs; the not-writable case is not checked"
	fi
	if mount -t ramfs ramfs "$work/mnt"; then
		mnt="$work/mnt"
		status 1 "$RAWIO" fsqual "$mnt" --engine uring
		one_line "$mnt: the ramfs filesystem refuses O_DIRECT"
		[ -z "$(ls -A "$mnt")" ] || fail "files left in $mnt"
		umount "$mnt"
		mnt=""
	else
		echo "note: cannot mount ramfs; the no-O_DIRECT case is not checked"
	fi
else
	# Not root: a directory without write permission is not writable to us.
	mkdir "$work/ro"
	chmod 555 "$work/ro"
	status 1 "$RAWIO" fsqual "$work/ro"
	one_line "$work/ro: not writable (Permission denied)"
fi
echo "PASS"
