#!/usr/bin/env bash
# Draw IOPS against queue depth (4 KiB random reads) per engine, rawio and fio together,
# one panel per target, from the summary bench/vs-fio.sh wrote.
#
# usage: bench/plot.sh [SUMMARY.tsv] [OUT.png]
#   defaults: build/bench/vs-fio.tsv and build/bench/iops-vs-qd.png (never committed)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
summary=${1:-$root/build/bench/vs-fio.tsv}
png=${2:-$root/build/bench/iops-vs-qd.png}

command -v gnuplot >/dev/null || { echo "plot.sh: needs gnuplot (gnuplot-nox)" >&2; exit 1; }
[ -s "$summary" ] || { echo "plot.sh: no summary at $summary (run bench/vs-fio.sh)" >&2; exit 1; }
mkdir -p "$(dirname "$png")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One data file per target, engine and tool: "qd iops" sorted by qd.
targets=$(awk -F'\t' 'NR > 1 && $3 == "randread" && $4 == "4k" { print $1 }' "$summary" |
	awk '!seen[$0]++')
[ -n "$targets" ] || { echo "plot.sh: no 4k randread rows in $summary" >&2; exit 1; }
for t in $targets; do
	for e in sync aio uring; do
		for tool in fio rawio; do
			col=6
			[ $tool = rawio ] && col=7
			awk -F'\t' -v t="$t" -v e="$e" -v c=$col \
				'NR > 1 && $1 == t && $2 == e && $3 == "randread" && $4 == "4k" {
				print $5, $c }' "$summary" | sort -n >"$tmp/$t.$e.$tool"
		done
	done
done

n=$(wc -w <<<"$targets")
{
	echo "set terminal pngcairo size $((640 * n)),480 noenhanced font ',10'"
	echo "set output '$png'"
	echo "set multiplot layout 1,$n"
	echo "set logscale x 2"
	echo "set xlabel 'queue depth'"
	echo "set ylabel 'IOPS (4 KiB random read)'"
	echo "set format y '%.0s%c'"
	echo "set key top left"
	echo "set grid"
	echo "set xrange [0.8:160]"
	echo "set yrange [0:*]"
	for t in $targets; do
		echo "set title 'rawio vs fio: $t'"
		plot="plot"
		sep=""
		i=0
		for e in sync aio uring; do
			i=$((i + 1))
			for tool in rawio fio; do
				f=$tmp/$t.$e.$tool
				[ -s "$f" ] || continue
				dt=1
				[ $tool = fio ] && dt=2
				plot="$plot$sep '$f' using 1:2 with linespoints lc $i dt $dt pt $((i * 2 + (dt - 1))) lw 2 title '$tool $e'"
				sep=","
			done
		done
		echo "$plot"
	done
	echo "unset multiplot"
} >"$tmp/plot.gp"
gnuplot "$tmp/plot.gp"
echo "plot: $png"
