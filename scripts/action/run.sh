#!/usr/bin/env bash
# Runs the plan for the GitHub Action (action.yml) and records how it went
# in the step's outputs, without failing the step: the job fails at the
# action's last step, with tunecheck's own exit code, after the summary, the
# comment and the artifacts are written.
#
#   TC_PLAN, TC_OUTPUT_DIR, TC_FORMATS  the plan, the report directory, the formats
#   TC_ARGS                             more `tunecheck run` flags, split on whitespace
#
# Outputs: exit-code, verdict (results.json's, "" when none was written),
# report-dir (absolute), report-md (absolute, "" when not written) and
# summary-written (whether tunecheck appended to $GITHUB_STEP_SUMMARY).
set -uo pipefail

plan="${TC_PLAN:-tunecheck.yaml}"
outdir="${TC_OUTPUT_DIR:-tunecheck-report}"
formats="${TC_FORMATS:-md,json,html,junit}"
IFS=$' \t\n' read -r -d '' -a extra <<<"${TC_ARGS:-}" || true

size() { if [[ -n "${1:-}" && -f "$1" ]]; then wc -c <"$1" | tr -d ' '; else echo 0; fi; }
before="$(size "${GITHUB_STEP_SUMMARY:-}")"

mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
# Reports an earlier run left here (a self-hosted runner keeps its
# workspace) would pass for this run's when this one writes none.
rm -f "$outdir/report.md" "$outdir/results.json" "$outdir/report.html" "$outdir/junit.xml"
echo "tunecheck run $plan -o $outdir --format $formats ${extra[*]+${extra[*]}}"
tunecheck run "$plan" -o "$outdir" --format "$formats" ${extra[@]+"${extra[@]}"}
code=$?

verdict=""
if [[ -f "$outdir/results.json" ]]; then
  # results.json is written indented with sorted keys: the run's verdict is
  # the one key "verdict" at the top level, two spaces in.
  verdict="$(sed -n 's/^  "verdict": "\([a-z]*\)",\{0,1\}$/\1/p' "$outdir/results.json" | head -n 1)"
fi
case "$code" in
0) meaning="no gate failed" ;;
1) meaning="a gate failed" ;;
2) meaning="bad plan or input" ;;
3) meaning="a provider was unreachable" ;;
4) meaning="a gate was inconclusive (--fail-on-inconclusive)" ;;
130) meaning="interrupted" ;;
*) meaning="unexpected exit status" ;;
esac
echo "tunecheck exited $code: $meaning (verdict: ${verdict:-none, no results.json})"

md=""
[[ -f "$outdir/report.md" ]] && md="$outdir/report.md"
written=false
[[ "$(size "${GITHUB_STEP_SUMMARY:-}")" != "$before" ]] && written=true

if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  {
    echo "exit-code=$code"
    echo "verdict=$verdict"
    echo "report-dir=$outdir"
    echo "report-md=$md"
    echo "summary-written=$written"
  } >>"$GITHUB_OUTPUT"
fi
exit 0
