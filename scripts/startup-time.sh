#!/usr/bin/env bash
# startup-time.sh — how long `tunecheck --help` takes, start to exit.
#
#   scripts/startup-time.sh [BINARY] [RUNS]
#
# Without BINARY it builds the release way (CGO_ENABLED=0, -trimpath,
# -ldflags='-s -w'). Prints the minimum, median and 90th percentile wall time
# over RUNS runs (default 50) in milliseconds, and the package inits that
# took longest in the fastest of five GODEBUG=inittrace=1 runs, and the CPU
# time per run. On a shared
# or loaded machine the minimum is the figure to compare: it is the run that
# waited least for a CPU. Issue 15 asks for --help under 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
runs=${2:-50}
if [[ -z "$bin" ]]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$tmp/tunecheck" ./cmd/tunecheck
	bin=$tmp/tunecheck
fi
"$bin" --help >/dev/null # warm the page cache
for _ in $(seq "$runs"); do
	t0=$(date +%s%N)
	"$bin" --help >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
done | sort -n | awk -v n="$runs" '
	{ v[NR] = $1 }
	END { printf "--help over %d runs: min %.1f ms, median %.1f ms, p90 %.1f ms\n", n, v[1] / 1000, v[int((n + 1) / 2)] / 1000, v[int(n * 0.9)] / 1000 }'
# CPU time (user + system) does not count waiting for a CPU, so it holds
# still on a loaded machine; measured over the whole loop, for resolution.
cpu=$( { /usr/bin/time -f '%U %S' bash -c 'for _ in $(seq '"$runs"'); do "$0" --help >/dev/null; done' "$bin"; } 2>&1 | tail -1)
awk -v n="$runs" '{ printf "CPU time per --help: %.1f ms (user %.1f + system %.1f)\n", ($1 + $2) * 1000 / n, $1 * 1000 / n, $2 * 1000 / n }' <<<"$cpu"
best=""
bestsum=999999
for _ in 1 2 3 4 5; do
	trace=$(GODEBUG=inittrace=1 "$bin" --help 2>&1 >/dev/null | grep '^init ' || true)
	sum=$(awk '{ s += $5 } END { printf "%d", s * 1000 }' <<<"$trace")
	if ((sum < bestsum)); then bestsum=$sum best=$trace; fi
done
awk '{ s += $5 } END { printf "package inits: %.1f ms in all (fastest of 5 traced runs); the slowest:\n", s }' <<<"$best"
sort -k5 -n -r <<<"$best" | head -8 | awk '{ printf "  %-60s %s ms\n", $2, $5 }'
