#!/usr/bin/env bash
# The one test command (README.md, .ci/run): installs and starts what the tests
# need (a throwaway PostgreSQL), then vets and runs every test. Needs only Go
# and, for PostgreSQL, apt-get (it installs the server when it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TUNECHECK_TEST_POSTGRES:-}" ]; then
  # pg-test.sh prints `export TUNECHECK_TEST_POSTGRES=...` for the cluster it started.
  eval "$(scripts/pg-test.sh start)"
  trap 'scripts/pg-test.sh stop >/dev/null 2>&1 || true' EXIT
fi

echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 20m ./...
