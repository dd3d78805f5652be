#!/usr/bin/env bash
# Lints the GitHub Action with actionlint (from the Go module proxy, pinned)
# and its scripts with ShellCheck when it is installed (apt-get install
# ShellCheck package). action_test.go checks the same files' structure without
# either tool; this adds actionlint's expression and type checks.
#
#   scripts/action/lint.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
actionlint_version=v1.7.12

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# actionlint checks workflows; a workflow that uses this action as a local
# action makes it read action.yml and check the inputs passed to it too.
mkdir -p "$tmp/.github/workflows"
cp action.yml "$tmp/action.yml"
cp examples/ci/github-workflow.yml "$tmp/.github/workflows/example.yml"
cat >"$tmp/.github/workflows/self.yml" <<'YAML'
name: self
on: [pull_request, push]
permissions:
  contents: read
  pull-requests: write
jobs:
  self:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: ./
        id: tc
        with:
          plan: examples/quickstart/tunecheck.yaml
          install: go
          comment: "true"
      - run: echo "${{ steps.tc.outputs.verdict }} ${{ steps.tc.outputs.exit-code }} ${{ steps.tc.outputs.report-dir }}"
YAML
git -C "$tmp" init -q
shellcheck=""
if command -v shellcheck >/dev/null; then
  shellcheck=shellcheck
  shellcheck scripts/action/*.sh
  echo "shellcheck: scripts/action/*.sh clean"
else
  echo "shellcheck is not installed; skipping it (apt-get install shellcheck)"
fi
(cd "$tmp" && go run "github.com/rhysd/actionlint/cmd/actionlint@$actionlint_version" -no-color -shellcheck="$shellcheck" -pyflakes= .github/workflows/*.yml)
echo "actionlint $actionlint_version: action.yml and examples/ci/github-workflow.yml clean"
