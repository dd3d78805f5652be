#!/usr/bin/env bash
# The one test command (README.md, .ci/run): installs and starts what the tests
# need (a throwaway PostgreSQL, Chromium for the HTML report's screenshot), then
# vets and runs every test. Needs only Go and, for PostgreSQL and Chromium,
# apt-get (it installs them when they are missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TUNECHECK_TEST_POSTGRES:-}" ]; then
  # pg-test.sh prints `export TUNECHECK_TEST_POSTGRES=...` for the cluster it started.
  eval "$(scripts/pg-test.sh start)"
  trap 'scripts/pg-test.sh stop >/dev/null 2>&1 || true' EXIT
fi

if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  # The HTML report's screenshot test (internal/report/browser_test.go) needs a
  # headless browser; in CI it fails rather than skips without one.
  if [[ $(id -u) -eq 0 ]]; then
    echo "== installing chromium with apt-get" >&2
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2
  else
    echo "chromium is not installed; run: sudo apt-get update && sudo apt-get install -y chromium" >&2
  fi
fi

echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 20m ./...
