# shellcheck shell=bash
# bench/lib.sh: helpers the bench scripts share. Source it after cd to the repo root:
#   . bench/lib.sh
# Nothing here runs on its own.

# bench_find_rawio SCRIPT: keep $rawio if the caller set it (--rawio BIN), else take
# build/release/tools/rawio, else build/debug/tools/rawio; exit 1 naming SCRIPT if none is
# there or it is not executable.
bench_find_rawio() {
	local b
	if [ -z "${rawio:-}" ]; then
		for b in build/release/tools/rawio build/debug/tools/rawio; do
			[ -x "$b" ] && { rawio=$b; break; }
		done
	fi
	if [ -z "${rawio:-}" ] || [ ! -x "$rawio" ]; then
		echo "$1: no rawio binary (cmake --build --preset release)" >&2
		exit 1
	fi
}

# bench_cpu_jiffies: the whole machine's CPU time from /proc/stat's "cpu" line, in
# USER_HZ ticks: "busy steal total" (busy: user+nice+system+irq+softirq; steal: time the
# hypervisor ran something else while a vCPU wanted to run, 0 where it does not report it).
bench_cpu_jiffies() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat
}
