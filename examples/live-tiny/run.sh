#!/usr/bin/env bash
# Evaluates the tiny fine-tune against its base on a real llama.cpp llama-server:
# builds the server if it is not cached (scripts/llama-server.sh, ~8 min once),
# starts it on 127.0.0.1:8089 with the base model and the LoRA adapter, runs
# tunecheck.yaml, writes the reports to examples/live-tiny/out/, stops the
# server and exits with tunecheck's exit code (0 pass, 1 a gate failed, 3 the
# endpoint broke; see docs/usage.md).
#
#   examples/live-tiny/run.sh [extra tunecheck run flags]
#
# TUNECHECK=/path/to/tunecheck uses that binary; otherwise one is built from
# this checkout with go, or `tunecheck` on PATH is used.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
port=8089

server=$("$root/scripts/llama-server.sh")

tc=${TUNECHECK:-}
if [[ -z $tc ]]; then
	if command -v go >/dev/null && [[ -f $root/go.mod ]]; then
		tc=$here/out/.bin/tunecheck
		mkdir -p "$(dirname "$tc")"
		(cd "$root" && go build -o "$tc" ./cmd/tunecheck)
	elif command -v tunecheck >/dev/null; then
		tc=tunecheck
	else
		echo "run.sh: no tunecheck: set TUNECHECK=/path/to/tunecheck, install it, or install Go to build it" >&2
		exit 2
	fi
fi

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	echo "run.sh: something already listens on 127.0.0.1:$port (the plan's base_url); stop it and run again" >&2
	exit 2
fi

mkdir -p "$here/out"
log=$here/out/llama-server.log
echo "run.sh: starting $server on 127.0.0.1:$port (log: $log)" >&2
# --lora-scaled FILE:0 loads the adapter at scale 0, so a request without a
# `lora` field is answered by the base model; the plan's candidate asks for
# the adapter per request. (--lora-init-without-apply does not do this in this
# llama.cpp build: the adapter stays applied; internal/livetest pins it.)
# -np 4 slots match the plan's concurrency.
"$server" -m "$here/models/base.gguf" \
	--lora-scaled "$here/models/ticket.lora.gguf:0" \
	--host 127.0.0.1 --port "$port" -c 4096 -np 4 --jinja >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true' EXIT

# healthy: GET /health answers 200 (llama-server answers 503 while it loads).
healthy() {
	local line
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	IFS= read -r -t 2 line <&3 || true
	exec 3<&-
	[[ $line == "HTTP/1."?" 200"* ]]
}

up=false
for _ in $(seq 1 600); do
	if ! kill -0 "$pid" 2>/dev/null; then
		break
	fi
	if healthy 2>/dev/null; then
		up=true
		break
	fi
	sleep 0.1
done
if ! $up; then
	echo "run.sh: llama-server did not become healthy; the end of its log:" >&2
	tail -20 "$log" >&2
	exit 3
fi

set +e
(cd "$here" && "$tc" run tunecheck.yaml "$@")
rc=$?
set -e
echo "run.sh: reports in $here/out/; tunecheck exited $rc" >&2
exit "$rc"
