#!/usr/bin/env bash
# librados and librbd are loaded by the first rbd: path (src/dev/rbd_lib.c), not linked:
# the rawio command does not depend on them, and an rbd: path where librados cannot be
# loaded fails with one line naming the image, the library, the package and dlopen's
# reason. Where librados is installed it is hidden in a mount namespace of our own (an
# empty file bound over it: nothing outside the namespace sees it).
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
scratch rbd-lib

if ldd "$RAWIO" | grep -E 'librbd|librados'; then
	fail "$RAWIO links librbd or librados"
fi
echo "ok: rawio does not link librbd or librados"

so=$(ldconfig -p | sed -n 's/^[[:space:]]*librados\.so\.2 (libc6,x86-64) => //p' | head -n 1)
if [ -n "$so" ]; then
	need_tool unshare
	unshare -m true 2>/dev/null || skip "cannot make a mount namespace to hide $so (unshare -m)"
	: >"$work/empty"
	status 1 unshare -m bash -c 'mount --bind "$1" "$2" && exec "$3" devinfo rbd:rbd/nothing' \
		_ "$work/empty" "$(readlink -f "$so")" "$RAWIO"
else
	status 1 "$RAWIO" devinfo rbd:rbd/nothing
fi
says "rbd:rbd/nothing: cannot load librados \(Debian: apt install librados2\): .*librados\.so\.2"
cat "$out"
echo PASS
