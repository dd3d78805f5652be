#!/usr/bin/env bash
# Writes the job summary when `tunecheck run` did not: it appends report.md
# itself whenever GITHUB_STEP_SUMMARY is set, so this covers a run that ended
# before writing a report (a bad plan) or a report.md from an older tunecheck.
#
#   TC_SUMMARY_WRITTEN, TC_REPORT_MD, TC_EXIT_CODE, TC_PLAN  from the run step
set -euo pipefail

if [[ "${TC_SUMMARY_WRITTEN:-}" == "true" ]]; then
  echo "tunecheck wrote the job summary"
  exit 0
fi
if [[ -z "${GITHUB_STEP_SUMMARY:-}" ]]; then
  echo "GITHUB_STEP_SUMMARY is not set; no job summary"
  exit 0
fi
{
  if [[ -s "${GITHUB_STEP_SUMMARY}" ]]; then echo; fi
  if [[ -n "${TC_REPORT_MD:-}" && -f "${TC_REPORT_MD}" ]]; then
    cat "$TC_REPORT_MD"
  else
    echo "### tunecheck: \`${TC_PLAN:-tunecheck.yaml}\` wrote no report"
    echo
    case "${TC_EXIT_CODE:-}" in
    2) echo "tunecheck exited 2: the plan, a flag or an input file is wrong. The step log says which file, line and field." ;;
    3) echo "tunecheck exited 3: a model endpoint could not be reached. The step log names it." ;;
    130) echo "tunecheck exited 130: the run was interrupted." ;;
    *) echo "tunecheck exited ${TC_EXIT_CODE:-(unknown)}. The step log says why." ;;
    esac
  fi
} >>"$GITHUB_STEP_SUMMARY"
echo "wrote the job summary"
