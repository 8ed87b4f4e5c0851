#!/usr/bin/env bash
# make install, as a user of the Debian-style install sees it: install the build into a
# temporary prefix, then build a small program against it with nothing but
# `pkg-config --cflags --libs rawio`, once against librawio.so and once with --static
# against librawio.a, and run both. Also a DESTDIR install: every file lands under DESTDIR.
#
# usage: install.sh BUILD_DIR CC MAN [SANITIZER_FLAGS...]
# (MAN: ON when the build renders man pages; the flags: what the build's sanitizers need)
set -euo pipefail
. "$RAWIO_TESTS/lib.sh"
need_tool pkg-config readelf

build=$1 cc=$2 man=$3
shift 3
san=("$@")
src=$(dirname "$0")
tmp=$(mktemp -d /tmp/rawio-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out

status 0 cmake --install "$build" --prefix "$tmp/usr"
pc=$(find "$tmp/usr" -name rawio.pc)
[ -n "$pc" ] || fail "no rawio.pc installed"
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir rawio)
[ "$libdir" = "$(dirname "$(dirname "$pc")")" ] || fail "rawio.pc: libdir $libdir, but it lies in $pc"
want=("$libdir/librawio.a" "$libdir/librawio.so" "$tmp/usr/include/rawio/rawio.h"
	"$tmp/usr/include/rawio/engine.h" "$tmp/usr/bin/rawio")
[ "$man" = OFF ] || want+=("$tmp/usr/share/man/man1/rawio.1"
	"$tmp/usr/share/man/man1/rawio-store.1" "$tmp/usr/share/man/man3/rawio.3")
for f in "${want[@]}"; do
	[ -e "$f" ] || fail "not installed: ${f#"$tmp"}"
done
echo "ok: library, headers, rawio.pc, binary and (RAWIO_MAN=$man) man pages installed"

# The shared library carries its SONAME, and exports the API and nothing else.
soname=$(readelf -d "$libdir/librawio.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname =~ ^librawio\.so\.[0-9]+$ ]] || fail "SONAME is '$soname'"
[ -e "$libdir/$soname" ] || fail "no $soname beside librawio.so"
leaked=$(nm -D --defined-only "$libdir/librawio.so" | awk '$2 ~ /[TDBR]/ && $3 !~ /^rawio_/ {print $3}')
[ -z "$leaked" ] || fail "librawio.so exports non-API names: $leaked"
echo "ok: SONAME $soname, exports rawio_* only"

# The version the .pc file states is the one the binary reports.
ver=$(pkg-config --modversion rawio)
status 0 "$tmp/usr/bin/rawio" --help
says "^rawio $ver;"

# Against librawio.so, with the flags pkg-config gives (nothing else on the command line).
read -r -a flags <<<"$(pkg-config --cflags --libs rawio)"
status 0 "$cc" "${san[@]}" -o "$tmp/hello" "$src/hello.c" "${flags[@]}"
readelf -d "$tmp/hello" | grep -q "NEEDED.*\[$soname\]" || fail "hello does not need $soname"
status 0 env LD_LIBRARY_PATH="$libdir" "$tmp/hello"
says "^hello from librawio $ver: mem:1048576, 1048576 bytes, engine mem$"

# Every installed header compiles on its own with the flags pkg-config gives (no header
# reaches into the source tree), and all of them together.
incdir=$(pkg-config --variable=includedir rawio)
for h in "$incdir"/rawio/*.h; do
	echo "#include <rawio/$(basename "$h")>" >"$tmp/one.c"
	"$cc" -std=gnu11 -Wall -Wextra -Werror -fsyntax-only $(pkg-config --cflags rawio) \
		"$tmp/one.c" 2>"$out" || { cat "$out" >&2; fail "rawio/$(basename "$h") alone: does not compile"; }
done
echo "ok: every installed header compiles alone ($(ls "$incdir"/rawio/*.h | wc -l) headers)"

# Against librawio.a: with the shared library gone, -lrawio can only find the archive, and
# the link succeeds only if Requires.private and Libs.private name all it needs.
rm -f "$libdir"/librawio.so*
read -r -a flags <<<"$(pkg-config --cflags --libs --static rawio)"
status 0 "$cc" "${san[@]}" -o "$tmp/hello-static" "$src/hello.c" "${flags[@]}"
! readelf -d "$tmp/hello-static" | grep -q 'NEEDED.*librawio' || fail "hello-static needs librawio.so"
status 0 "$tmp/hello-static"
says "^hello from librawio $ver: mem:1048576, 1048576 bytes, engine mem$"

# The EXAMPLE of rawio(3), as printed there, builds and runs the same way.
sed -n '/^# EXAMPLE/,/^# FILES/p' "$src/../../man/rawio.3.scd" |
	awk '/^```/ { n++; next } n == 1' | sed 's/\\\\/\\/g' >"$tmp/example.c"
grep -q 'int main' "$tmp/example.c" || fail "no program in the EXAMPLE of rawio.3.scd"
status 0 "$cc" "${san[@]}" -o "$tmp/example" "$tmp/example.c" "${flags[@]}"
status 0 "$tmp/example"
says "^hello$"

# DESTDIR: a staged install writes nothing outside it.
status 0 env DESTDIR="$tmp/stage" cmake --install "$build"
prefix=$(sed -n 's/^prefix=//p' "$(find "$tmp/stage" -name rawio.pc)")
[ -x "$tmp/stage$prefix/bin/rawio" ] || fail "DESTDIR install: no $tmp/stage$prefix/bin/rawio"
[ -e "$tmp/stage$prefix/include/rawio/rawio.h" ] || fail "DESTDIR install: no headers"
echo "ok: DESTDIR install under $tmp/stage$prefix"
