# Shared by every shell test; source it after `set -euo pipefail`.
# Exit codes: 0 pass, 1 fail, 77 skip. status and says use $out (set it first).

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

need_tool() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "needs $t"
	done
}

[ -n "${RAWIO:-}" ] && [ -x "$RAWIO" ] || fail "RAWIO is not set to the rawio binary"

# status EXPECTED CMD...: run CMD, stdout+stderr into $out, check its exit code.
status() {
	local want=$1 rc=0
	shift
	"$@" >"$out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || { cat "$out" >&2; fail "$* exited $rc, expected $want"; }
	echo "ok: $* -> $rc"
}

# says PATTERN: the last command's output matches PATTERN (grep -E).
says() {
	grep -qE "$1" "$out" || { cat "$out" >&2; fail "output does not say '$1'"; }
}

# jcheck JSON EXPR MSG: jq -e EXPR holds for JSON.
jcheck() {
	jq -e "$2" <<<"$1" >/dev/null || { echo "$1" >&2; fail "$3 ($2)"; }
	echo "ok: $3"
}
