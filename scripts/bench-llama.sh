#!/usr/bin/env bash
# bench-llama.sh: tunecheck's throughput against llama-server next to the
# server's own (issue 14; figures in docs/benchmarks.md).
#
#   scripts/bench-llama.sh [MODEL.gguf [WORKDIR]]
#
# For each concurrency C (LLAMABENCH_RUNS, "C:N" pairs, default "1:512 8:1024 64:1024")
# it starts llama-server with C slots (-np C, -c C*256, --metrics, -t
# LLAMABENCH_THREADS, default 1: with 2 threads on a busy 2-core machine the
# server's threads spin waiting for each other and every figure is 5-10x
# slower and as noisy; see docs/benchmarks.md),
# warms it up, then REPS times (LLAMABENCH_REPS, default 5), alternating which
# goes first (A/B, B/A, A/B, …):
#   - the load loop (llamabench load): C workers POST the first N prompts of
#     scripts/llamabench/testdata/prompts.jsonl to /v1/completions, each once,
#     in the bodies tunecheck sends (max_tokens 64, temperature 0);
#   - `tunecheck run` of a one-model plan over the same N prompts (openai
#     provider, endpoint completions, the same params, concurrency C) with a
#     fresh SQLite store each time, so no answer comes from the cache;
#   - the same tunecheck run on one item ("fixed"): its CPU time is tunecheck's
#     fixed cost, so the table can give tunecheck's CPU per request without it.
# Both count completion tokens by the server's llamacpp:tokens_predicted_total.
# It prints the median table (llamabench table) and leaves the records in
# WORKDIR/records.jsonl and the server and tunecheck logs beside them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$root/examples/live-tiny/models/base.gguf}
work=${2:-$(mktemp -d)}
runs=${LLAMABENCH_RUNS:-"1:512 8:1024 64:1024"}
reps=${LLAMABENCH_REPS:-5}
port=${LLAMABENCH_PORT:-18431}
threads=${LLAMABENCH_THREADS:-1}
max_tokens=64
prompts=$root/scripts/llamabench/testdata/prompts.jsonl
url=http://127.0.0.1:$port/v1

[[ -f $model ]] || { echo "bench-llama.sh: no model at $model; give the GGUF file as the first argument" >&2; exit 2; }
mkdir -p "$work"
server_bin=$("$root/scripts/llama-server.sh")
(cd "$root" && go build -o "$work/tunecheck" ./cmd/tunecheck && go build -o "$work/llamabench" ./scripts/llamabench)
records=$work/records.jsonl
: >"$records"

server_pid=
stop_server() {
	if [[ -n $server_pid ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=
	fi
}
trap stop_server EXIT

{
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "server:  $server_bin -t $threads"
	echo "model:   $model ($(stat -c %s "$model") bytes)"
} >&2

write_plan() { # CONCURRENCY ITEMS
	cat <<EOF
version: 1
name: llamabench
models:
  - name: base
    provider: openai
    base_url: $url
    model: base
    endpoint: completions
    params: {temperature: 0, max_tokens: $max_tokens}
    concurrency: $1
tasks:
  - name: prompts
    dataset: {path: $prompts, id_field: id, limit: $2}
    prompt: {template: "{{ input }}", chat: false}
EOF
}

for run in $runs; do
	c=${run%%:*} n=${run##*:}
	stop_server
	"$server_bin" -m "$model" --host 127.0.0.1 --port "$port" -c $((c * 256)) -np "$c" -t "$threads" --metrics \
		>"$work/server-c$c.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
		kill -0 "$server_pid" 2>/dev/null || { cat "$work/server-c$c.log" >&2; exit 1; }
		sleep 0.2
	done
	write_plan "$c" "$n" >"$work/plan-c$c.yaml"
	write_plan "$c" 1 >"$work/plan-c$c-fixed.yaml"
	# Warm-up: C requests (two waves) not counted.
	"$work/llamabench" load -url "$url" -data "$prompts" -n $((2 * c)) -c "$c" >/dev/null

	loop() {
		"$work/llamabench" load -server-pid "$server_pid" -url "$url" -data "$prompts" -n "$n" -c "$c" -max-tokens $max_tokens | tee -a "$records" >&2
	}
	tc() { # KIND PLAN LOG-SUFFIX
		rm -rf "$work/store-c$c.db"* "$work/out-c$c"
		"$work/llamabench" exec -server-pid "$server_pid" -kind "$1" -url "$url" -c "$c" -log "$work/tunecheck-c$c-$3.log" -- \
			"$work/tunecheck" run "$2" --store "$work/store-c$c.db" -o "$work/out-c$c" \
			| tee -a "$records" >&2
	}
	for rep in $(seq "$reps"); do
		if ((rep % 2)); then loop; tc tunecheck "$work/plan-c$c.yaml" "$rep"; else tc tunecheck "$work/plan-c$c.yaml" "$rep"; loop; fi
		# The same command on one item: its CPU is tunecheck's fixed cost
		# (start, plan, store, report), so the rest is the cost per request.
		tc fixed "$work/plan-c$c-fixed.yaml" "fixed-$rep"
	done
done
stop_server
"$work/llamabench" table "$records"
