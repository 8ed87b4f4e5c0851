#!/usr/bin/env bash
# Several processes on one store (issue 19): 4 loops of 30 `store put` in
# parallel end with 120 objects, or with every missing one reported by a
# non-zero exit; never an exit 0 whose object vanished. A writer that cannot
# get the device in --lock-wait fails with EBUSY naming the holder's pid.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/rawio-store-lock.XXXXXX")
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
img="$work/cc.img"
out="$work/out"

$RAWIO store format "$img" --size 64M --slot-size 64k
for i in 1 2 3 4; do
	(
		for j in $(seq 30); do
			if $RAWIO store put "$img" "p$i-$j" /etc/services --lock-wait 60000 \
				2>>"$work/err.$i"; then
				echo "p$i-$j" >>"$work/ok.$i"
			fi
		done
	) &
	pids="$pids $!"
done
wait $pids
pids=""
cat "$work"/ok.* | sort >"$work/acked"
$RAWIO store ls "$img" | awk '{print $1}' | sort >"$work/listed"
missing=$(comm -23 "$work/acked" "$work/listed" | wc -l)
[ "$missing" -eq 0 ] || fail "$missing puts exited 0 and vanished: $(comm -23 "$work/acked" "$work/listed" | head -3)"
echo "ok: $(wc -l <"$work/acked") puts acknowledged, all listed"
[ "$(wc -l <"$work/acked")" -eq 120 ] || { cat "$work"/err.* >&2; fail "only $(wc -l <"$work/acked") of 120 puts succeeded"; }
status 0 $RAWIO store check "$img"

# A holder that keeps the store: a writer gives up after --lock-wait, naming it.
command -v flock >/dev/null || skip "needs flock(1) for the holder"
# -o: the lock stays with flock itself (its pid), not with the command it runs.
flock -x -o "$img" sleep 10 &
holder=$!
pids="$holder"
for _ in $(seq 100); do grep -q " $holder " /proc/locks 2>/dev/null && break; sleep 0.05; done
status 1 $RAWIO store put "$img" late /etc/services --lock-wait 200
says "in use by another process \(pid $holder\)"
# Readers wait for a writer too (recovery beside a writer would read half-written slots).
status 1 $RAWIO store ls "$img" --lock-wait 200
says "pid $holder"
kill "$holder"
wait "$holder" 2>/dev/null || true
pids=""
status 0 $RAWIO store put "$img" late /etc/services
