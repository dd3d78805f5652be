#!/usr/bin/env bash
# Regenerates the bundled examples' expected reports (examples/*/expected),
# which cmd/tunecheck's script tests compare byte for byte. Review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/tunecheck" ./cmd/tunecheck
for ex in examples/*/; do
  [ -d "$ex/expected" ] || continue
  "$tmp/tunecheck" run "$ex/tunecheck.yaml" --store "$tmp/$(basename "$ex").db" -o "$ex/expected" >/dev/null 2>&1 || true
done
git status --short examples
