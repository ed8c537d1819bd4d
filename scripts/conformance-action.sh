#!/usr/bin/env bash
# The logic of the composite action (action.yml at the repository root): runs the
# conformance suite with the action's inputs, then computes the verdict counts from the
# report.json it wrote and publishes them as step outputs, the Markdown report as the job
# summary. Runnable outside GitHub too (.ci/run does, against a small filter): outputs are
# then printed as key=value lines.
#
# Inputs (environment, as GitHub passes them to a composite step):
#   INPUT_PROFILE     endpoint profile YAML; empty = the embedded emulator
#   INPUT_EMBEDDED    "true": start the embedded emulator with the profile's behaviour
#   INPUT_STRICT      "true" (default) / "false": check COS error codes too
#   INPUT_FILTER      case filters, separated by spaces or commas (`*` globs ids); empty = all
#   INPUT_REPORT_DIR  where report.json, junit.xml, report.md, report.html go (default reports)
#   COS_SUITE         the cos-suite command (default: cargo run --locked --release -p cos-suite
#                     -- in the directory of this script's repository)
# Outputs: pass, fail, expected-fail, unexpected-pass, not-applicable, error, total,
#   report-dir, exit-code. The exit status is the suite's (0 all as expected; 1 an
#   unexpected failure or pass; 2 harness error; 3 no case matched), after the outputs
#   are written, so a failing run still reports its counts.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
report_dir="${INPUT_REPORT_DIR:-reports}"
strict="${INPUT_STRICT:-true}"

say() { echo "conformance-action: $*" >&2; }

args=(run --report-dir "$report_dir")
case "$strict" in
true) args+=(--strict) ;;
false) ;;
*)
    say "error: input 'strict' must be true or false, not '$strict'"
    exit 2
    ;;
esac
if [ -n "${INPUT_PROFILE:-}" ]; then
    [ -f "$INPUT_PROFILE" ] || {
        say "error: profile '$INPUT_PROFILE' does not exist"
        exit 2
    }
    args+=(--profile "$INPUT_PROFILE")
    [ "${INPUT_EMBEDDED:-false}" = true ] && args+=(--embedded)
fi
for f in ${INPUT_FILTER//,/ }; do
    args+=(--filter "$f")
done

if [ -n "${COS_SUITE:-}" ]; then
    read -r -a suite <<<"$COS_SUITE"
else
    suite=(cargo run --quiet --locked --release --manifest-path "$root/Cargo.toml" -p cos-suite --)
fi

say "${suite[*]} ${args[*]}"
set +e
"${suite[@]}" "${args[@]}"
status=$?
set -e

report="$report_dir/report.json"
if [ ! -f "$report" ]; then
    say "error: the suite exited with $status and wrote no $report"
    exit $((status == 0 ? 2 : status))
fi
# The counts, computed from the report the suite just wrote (summary: verdict -> count).
outputs="$(
    python3 - "$report" "$report_dir" "$status" <<'PY'
import json, sys
report, report_dir, status = sys.argv[1:4]
with open(report, encoding="utf-8") as f:
    summary = json.load(f).get("summary", {})
verdicts = ["pass", "fail", "expected-fail", "unexpected-pass", "not-applicable", "error"]
unknown = sorted(set(summary) - set(verdicts))
if unknown:
    sys.exit(f"{report}: unknown verdicts in summary: {', '.join(unknown)}")
for v in verdicts:
    print(f"{v}={int(summary.get(v, 0))}")
print(f"total={sum(int(n) for n in summary.values())}")
print(f"report-dir={report_dir}")
print(f"exit-code={status}")
PY
)"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "$outputs" >>"$GITHUB_OUTPUT"
else
    echo "$outputs"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$report_dir/report.md" ]; then
    cat "$report_dir/report.md" >>"$GITHUB_STEP_SUMMARY"
fi
exit "$status"
