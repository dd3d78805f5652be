#!/usr/bin/env bash
# bench-metrics.sh: time `tunecheck score` on the BASELINE.md workload of
# shared/data/parity and run the metric benchmarks.
#
#   scripts/bench-metrics.sh [WORKDIR]
#
# 1. generates the workload with shared/data/parity/bench_data.py (needs
#    python3 and Debian's wamerican word list, /usr/share/dict/words) and
#    stops unless it is byte-identical to the timed one;
# 2. builds tunecheck;
# 3. runs every workload row of BASELINE.md through `tunecheck score`,
#    checks the values against the reference values, and reports the median
#    wall time of 3 runs (the reference's "wall" column);
# 4. runs the Go benchmarks (compute only, input parsed; the reference's
#    "compute" column) with GOMAXPROCS=1.
# The output is Markdown, ready for docs/benchmarks/metrics-numeric.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
shared=${TUNECHECK_SHARED:-$root/../shared}
parity=$shared/data/parity
mkdir -p "$work"

echo "## Workload" >&2
python3 "$parity/bench_data.py" "$work" 2>"$work/bench_data.log" >/dev/null
if ! grep -q "byte-identical" "$work/bench_data.log"; then
	cat "$work/bench_data.log" >&2
	echo "the workload differs from the one BASELINE.md timed (install Debian wamerican 2020.12.07-2)" >&2
	exit 1
fi

(cd "$root" && go build -o "$work/tunecheck" ./cmd/tunecheck)
bin=$work/tunecheck

# name | metrics and flags | input | json path checked | reference value
rows=(
	"corpus BLEU (13a, exp)|--metrics bleu|pairs10k|bleu|44.026376712826796"
	"corpus BLEU + 10k sentence BLEU|--metrics bleu --per-item $work/items.jsonl|pairs10k|bleu|44.026376712826796"
	"corpus chrF|--metrics chrf|pairs10k|chrf|75.4938043615186"
	"corpus chrF++|--metrics chrf++|pairs10k|chrf++|73.25341405929798"
	"corpus TER|--metrics ter|pairs10k|ter|28.57831189846175"
	"ROUGE 1/2/L/Lsum, Porter stemming|--metrics rouge1,rouge2,rougeL,rougeLsum --stem|pairs10k|rouge1|0.8228795499252168"
	"same + bootstrap (1000 resamples)|--metrics rouge1,rouge2,rougeL,rougeLsum --stem --confidence --resamples 1000 --seed 0|pairs10k|rougeL|0.7747376218781237"
	"ROUGE 1/2/L/Lsum, no stemming|--metrics rouge1,rouge2,rougeL,rougeLsum|pairs10k|rouge2|0.5120827890834606"
	"SQuAD EM / F1|--metrics squad_em,squad_f1|pairs10k|squad_f1|82.28367268877"
	"ROC AUC, 1M scores|--metrics roc_auc|auc1m|roc_auc|0.893683362601975"
	"average precision, 1M scores|--metrics average_precision|auc1m|average_precision|0.8293937212778717"
)

# timeit runs a command and prints its wall time and CPU time (user + sys of
# the child), in seconds. CPU time is the figure to compare on a shared
# machine, where other processes inflate wall time.
timeit() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.3f} {ru.ru_utime + ru.ru_stime:.3f}")
PY
}

median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }

echo
echo "Machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg) at start."
echo
echo "| workload | tunecheck score flags | input | wall s (median of 3) | CPU s (median of 3) | the 3 wall runs | value | reference |"
echo "|---|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
	IFS='|' read -r name flags input key want <<<"$row"
	walls=()
	cpus=()
	for _ in 1 2 3; do
		# shellcheck disable=SC2086
		read -r w c < <(timeit "$bin" score --pred "$work/$input.jsonl" $flags --format json)
		walls+=("$w")
		cpus+=("$c")
	done
	# shellcheck disable=SC2086
	"$bin" score --pred "$work/$input.jsonl" $flags --format json >"$work/out.json"
	got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(repr([m["value"] for m in d["metrics"] if m["metric"]==sys.argv[2]][0]))' "$work/out.json" "$key")
	ok=$(python3 -c 'import sys; g,w=float(sys.argv[1]),float(sys.argv[2]); print("ok" if abs(g-w)<=1e-9*max(1,abs(w)) else "MISMATCH")' "$got" "$want")
	if [ "$ok" != ok ]; then
		echo "$name: got $got, reference $want" >&2
		exit 1
	fi
	printf '| %s | `%s` | %s | %s | %s | %s | %s | %s |\n' "$name" "$flags" "$input" "$(median "${walls[@]}")" "$(median "${cpus[@]}")" "${walls[*]}" "$got" "$want"
done

echo
echo "## Go benchmarks (compute only, GOMAXPROCS=1)"
echo
echo '```'
(cd "$root" && TUNECHECK_BENCH_DATA=$work go test -run '^$' -bench . -benchtime 5x -count 3 -cpu 1 \
	./metrics/classification ./metrics/regression ./internal/scorefile 2>&1 | grep -E '^(Benchmark|cpu|goos|goarch)' )
echo '```'
