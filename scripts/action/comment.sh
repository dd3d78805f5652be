#!/usr/bin/env bash
# Posts or updates the pull request's tunecheck comment for the GitHub Action
# (action.yml) through `tunecheck github comment`, which does nothing for an
# event other than a pull request's and only warns when the token may not
# write (a fork).
#
#   TC_COMMENT      true to comment
#   TC_REPORT_MD    report.md from the run step ("" when none was written)
#   TC_KEY          the comment's key (the plan when empty)
#   TC_ARTIFACT     the artifact's name, for the comment's footer
#   GITHUB_TOKEN    the action's github-token input
set -euo pipefail

if [[ "${TC_COMMENT:-true}" != "true" ]]; then
  echo "comment: ${TC_COMMENT:-}; not commenting"
  exit 0
fi
if [[ -z "${TC_REPORT_MD:-}" ]]; then
  echo "tunecheck wrote no report.md (exit code ${TC_EXIT_CODE:-unknown}; add md to formats for a comment); not commenting"
  exit 0
fi
key="${TC_KEY:-}"
[[ -n "$key" ]] || key="${TC_PLAN:-tunecheck.yaml}"
exec tunecheck github comment --report "$TC_REPORT_MD" --key "$key" --artifact-name "${TC_ARTIFACT:-}"
