#!/usr/bin/env bash
# Measures `lab grade` on 200 PromQL checks against a script-style grader that starts one
# `promtool query instant` process per check (the way Killercoda and Instruqt check
# scripts work), both against the same real Prometheus, runs interleaved and alternating
# which goes first; writes the bench-grade section of docs/benchmarks.md. Run it with
# `make bench`.
#
#   lab:      bin/lab grade checks.yaml --prometheus-url URL -o json (8 workers, the
#             default), from start to exit; it must exit 0 (every check passed).
#   baseline: a bash loop over the same checks: promtool query instant URL EXPR, the value
#             cut out of its output and compared in bash; it must find every check passing.
#
# Environment: BENCH_CHECKS (default 200), BENCH_RUNS (measured pairs, default 5; one
# warm-up pair more is run and discarded), BENCH_DOC (default docs/benchmarks.md).
# Needs prometheus and promtool (`make testenv` installs Debian's package).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
lab_bin="$repo_root/bin/lab"

# ---------------------------------------------------------------------------------------
# Contender mode: `bench-grade.sh __lab|__baseline`, under the timer, so both pay the same
# wrapper cost. BENCH_TMP and BENCH_URL come from the parent.

contender_lab() {
  NO_COLOR=1 exec "$lab_bin" grade "$BENCH_TMP/serve/checks.yaml" --prometheus-url "$BENCH_URL" -o json \
    >"$BENCH_TMP/lab.json" 2>"$BENCH_TMP/lab.stderr"
}

# holds VALUE OP WANT: the comparison a check script would write with [[ ]] / (( )).
holds() {
  local value=$1 op=$2 want=$3
  [[ "$value" =~ ^-?[0-9]+$ ]] || return 1
  case "$op" in
  "==") ((value == want)) ;;
  "!=") ((value != want)) ;;
  ">") ((value > want)) ;;
  ">=") ((value >= want)) ;;
  "<") ((value < want)) ;;
  "<=") ((value <= want)) ;;
  *) return 1 ;;
  esac
}

contender_baseline() {
  local expr op want out value passed=0 total=0
  while IFS=$'\t' read -r expr op want; do
    total=$((total + 1))
    # promtool prints: bench_value{i="3", instance="...", job="test"} => 3 @[1700000000.123]
    out="$(promtool query instant "$BENCH_URL" "$expr")"
    value="${out##*=> }"
    value="${value%% @*}"
    if holds "$value" "$op" "$want"; then passed=$((passed + 1)); fi
  done <"$BENCH_TMP/serve/checks.tsv"
  echo "$passed/$total" >"$BENCH_TMP/baseline.result"
  ((passed == total))
}

case "${1:-}" in
__lab)
  contender_lab
  ;;
__baseline)
  contender_baseline
  exit $?
  ;;
"") ;;
*)
  echo "usage: bash hack/bench-grade.sh   (see the comment at its top)" >&2
  exit 2
  ;;
esac

# ---------------------------------------------------------------------------------------
# Driver.

# shellcheck source=lib/bench.sh source-path=SCRIPTDIR
source "$repo_root/hack/lib/bench.sh"
checks="${BENCH_CHECKS:-200}"
bench_check BENCH_CHECKS "$checks" '^[1-9][0-9]*$' 'a positive integer'
bench_init bench-grade 5

command -v prometheus >/dev/null || die "prometheus is missing: run \`make testenv\` (it installs Debian's prometheus package)"
command -v promtool >/dev/null || die "promtool is missing: run \`make testenv\`"
bench_need "$lab_bin" "make build"

# cleanup: run by bench_on_exit, before the temp dir goes: stops the Prometheus helper.
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}

bench_start
mkdir -p "$BENCH_TMP/serve"
bench_build benchgrade benchup

log "starting Prometheus and an exporter of $checks series"
"$BENCH_TMP/benchgrade" serve "$BENCH_TMP/serve" "$checks" 2>"$BENCH_TMP/serve.log" &
server_pid=$!
for ((i = 0; i < 600; i++)); do
  [[ -e "$BENCH_TMP/serve/ready" ]] && break
  kill -0 "$server_pid" 2>/dev/null || die "the Prometheus helper exited: $(cat "$BENCH_TMP/serve.log")"
  sleep 0.1
done
[[ -e "$BENCH_TMP/serve/ready" ]] || die "Prometheus did not get ready in 60s"
BENCH_URL="$(cat "$BENCH_TMP/serve/url")"
export BENCH_URL

# run_one lab|baseline TAG: one timed run.
run_one() {
  bench_time "$1" "$2" bash "$repo_root/hack/bench-grade.sh" "__$1" || bench_failed "$1" "$2" "$BENCH_TMP/lab.stderr"
}

# record_round I: "I: lab / baseline" of pair I, "*" before the one that went first.
pairs=()
record_round() { pairs+=("$1: $(bench_starred lab) / $(bench_starred baseline)"); }

bench_measure lab baseline

# What each grader found in its last run: every check passing, or the run would have failed.
lab_passed="$(grep -c '"outcome": "pass"' "$BENCH_TMP/lab.json" || true)"
base_passed="$(cat "$BENCH_TMP/baseline.result")"

# ---------------------------------------------------------------------------------------
# Report.

bench_stats
speedup="$(bench_ratio "${med[baseline]}" "$((med[lab] > 0 ? med[lab] : 1))" 1)"
if awk -v a="${med[lab]}" -v b="${med[baseline]}" 'BEGIN { exit !(b >= 10 * a && a < 1000) }'; then
  verdict="**Met**: lab is ${speedup}x faster than the script-style grader, and takes ${med[lab]} ms for the $checks checks."
else
  verdict="**Not met**: lab is ${speedup}x faster than the script-style grader and takes ${med[lab]} ms for the $checks checks."
fi

bench_facts
prometheus_version="$(bench_version prometheus)"
# The part of make bench that writes this section.
bench_command "bash hack/bench-grade.sh" BENCH_RUNS BENCH_CHECKS
pair_list="$(bench_join '; ' "${pairs[@]}")"
pair_word="$(bench_plural "$n" pair)"
warmup="$(bench_warmup_ms)"

section="$BENCH_TMP/section.md"
cat >"$section" <<EOF
## \`lab grade\`: $checks PromQL checks against a script-style grader

Produced by \`$command\` on $when, commit $commit (\`make bench\` runs \`hack/bench-grade.sh\`).

| contender | median | min | max | runs |
|---|---:|---:|---:|---:|
| lab grade | ${med[lab]} ms | ${min[lab]} ms | ${max[lab]} ms | $n |
| one \`promtool query instant\` per check (baseline) | ${med[baseline]} ms | ${min[baseline]} ms | ${max[baseline]} ms | $n |

- Speed-up of the medians, baseline / lab: **${speedup}x**; lab's median for the $checks checks: **${med[lab]} ms**.
- Target: lab at least 10x faster than the script-style grader, and under 1 s for the $checks checks. $verdict

What each contender does, against the same Prometheus ($prometheus_version, Debian's
package, scraping every second an exporter of $checks series \`bench_value{i="0".."$((checks - 1))"}\`
whose values make every check pass):

- **lab**: \`bin/lab grade checks.yaml --prometheus-url URL -o json\`, $checks checks
  \`promql: {query: 'bench_value{i="k"}', op: "==", value: k}\`, evaluated by 8 workers (the
  default), from process start to exit; exit 0 (every check passed: $lab_passed passed in the last run).
- **baseline**: a bash loop over the same $checks expressions, one
  \`promtool query instant URL EXPR\` process per check, the value cut out of promtool's
  output and compared in bash, as Killercoda and Instruqt check scripts do; $base_passed
  checks held in the last run.
- Each contender runs as \`bash hack/bench-grade.sh __lab|__baseline\` under
  \`hack/benchup time\`, which measures wall time on the monotonic clock. One warm-up pair
  ran first and was discarded ($warmup ms); then $n measured $pair_word, interleaved,
  alternating which contender goes first.

Pairs in order, lab / baseline in ms (\* ran first): $pair_list.

Machine: $cpus CPUs ($cpu_model), $mem memory, $kernel; load average
$load_before before, $load_after after (other work may share the machine; interleaving
spreads it over both contenders). Go ${go_version#go}.
EOF

bench_publish bench-grade "$section"
