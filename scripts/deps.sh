#!/usr/bin/env bash
# Install every Debian package rawio needs. Idempotent: silent when all is there,
# runs apt-get update only when something is missing.
set -euo pipefail

# nbdfuse comes with libnbd-bin on Debian 12 (the name is only a virtual package: asking
# dpkg for it would find it missing on every run).
pkgs=(
	build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev
	liburing-dev libaio-dev libisal-dev libcjson-dev
	nbdkit nbdkit-plugin-dev libnbd-bin libnbd-dev
	ceph-mon ceph-mgr ceph-osd ceph-common librbd-dev
	fio gnuplot-nox linux-perf scdoc man-db groff-base
	util-linux e2fsprogs xfsprogs btrfs-progs kmod jq
)

missing=()
for p in "${pkgs[@]}"; do
	# triggers-pending/-awaited: installed and usable; another dpkg run (man-db's trigger
	# after any package with man pages) has not yet finished its triggers.
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -Eq 'install ok (installed|triggers-pending|triggers-awaited)'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: run as root (or: sudo $0) to install them" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
