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

checks="${BENCH_CHECKS:-200}"
runs="${BENCH_RUNS:-5}"
doc="${BENCH_DOC:-$repo_root/docs/benchmarks.md}"
[[ "$checks" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_CHECKS must be a positive integer, not '$checks'" >&2; exit 2; }
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_RUNS must be a positive integer, not '$runs'" >&2; exit 2; }

log() { printf 'bench-grade: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

command -v prometheus >/dev/null || die "prometheus is missing: run \`make testenv\` (it installs Debian's prometheus package)"
command -v promtool >/dev/null || die "promtool is missing: run \`make testenv\`"
[[ -x "$lab_bin" ]] || die "$lab_bin is missing: run \`make build\` (or \`make bench\`, which does)"

BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench-grade.XXXXXX")"
export BENCH_TMP
mkdir -p "$BENCH_TMP/serve" "$BENCH_TMP/times"
server_pid=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$BENCH_TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building the helpers (hack/benchgrade, hack/benchup)"
go build -o "$BENCH_TMP/benchgrade" ./hack/benchgrade
go build -o "$BENCH_TMP/benchup" ./hack/benchup
benchup="$BENCH_TMP/benchup"

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

# run_one lab|baseline TAG: one timed run; timings of measured runs go to
# times/<contender>, those of the warm-up to times/warmup-<contender>.
run_one() {
  local who=$1 tag=$2 out
  out="$BENCH_TMP/times/$who"
  [[ "$tag" == warmup ]] && out="$BENCH_TMP/times/warmup-$who"
  if ! "$benchup" time "$out" -- bash "$repo_root/hack/bench-grade.sh" "__$who" >"$BENCH_TMP/$who-$tag.log" 2>&1; then
    log "the $who run $tag failed:"
    tail -n 20 "$BENCH_TMP/$who-$tag.log" "$BENCH_TMP/lab.stderr" 2>/dev/null >&2 || true
    exit 1
  fi
  last_ms="$(tail -n 1 "$out")"
  log "$who $tag: $last_ms ms"
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
log "warm-up pair (discarded)"
run_one lab warmup
run_one baseline warmup
pairs=()
for ((i = 1; i <= runs; i++)); do
  # "*" marks the contender that went first.
  if ((i % 2 == 1)); then
    run_one lab "$i"
    lab_ms="*$last_ms"
    run_one baseline "$i"
    base_ms="$last_ms"
  else
    run_one baseline "$i"
    base_ms="*$last_ms"
    run_one lab "$i"
    lab_ms="$last_ms"
  fi
  pairs+=("$i: $lab_ms / $base_ms")
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# What each grader found in its last run: every check passing, or the run would have failed.
lab_passed="$(grep -c '"outcome": "pass"' "$BENCH_TMP/lab.json" || true)"
base_passed="$(cat "$BENCH_TMP/baseline.result")"

# ---------------------------------------------------------------------------------------
# Report.

read -r n lab_med lab_min lab_max < <("$benchup" stats "$BENCH_TMP/times/lab")
read -r _ base_med base_min base_max < <("$benchup" stats "$BENCH_TMP/times/baseline")
speedup="$(awk -v a="$lab_med" -v b="$base_med" 'BEGIN { printf "%.1f", b / (a > 0 ? a : 1) }')"
if awk -v a="$lab_med" -v b="$base_med" 'BEGIN { exit !(b >= 10 * a && a < 1000) }'; then
  verdict="**Met**: lab is ${speedup}x faster than the script-style grader, and takes $lab_med ms for the $checks checks."
else
  verdict="**Not met**: lab is ${speedup}x faster than the script-style grader and takes $lab_med ms for the $checks checks."
fi

mem_kb="$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
mem="$(awk -v k="$mem_kb" 'BEGIN { printf "%.1f GiB", k / 1048576 }')"
cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
kernel="$(uname -sr)"
go_version="$(go version | awk '{ print $3 }')"
prometheus_version="$(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }')"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -z "$(git status --porcelain 2>/dev/null)" ]] || commit+=" (with uncommitted changes)"
when="$(date -u '+%Y-%m-%d %H:%M UTC')"
command="make bench"
[[ -n "${MAKELEVEL:-}" ]] || command="bash hack/bench-grade.sh"  # the part of make bench that writes this section
[[ -z "${BENCH_RUNS:-}" ]] || command="BENCH_RUNS=$runs $command"
[[ -z "${BENCH_CHECKS:-}" ]] || command="BENCH_CHECKS=$checks $command"
pair_list="$(printf '%s; ' "${pairs[@]}")"
pair_list="${pair_list%; }"
pair_word="pairs"
((n > 1)) || pair_word="pair"
warmup="$(cat "$BENCH_TMP/times/warmup-lab") / $(cat "$BENCH_TMP/times/warmup-baseline")"

section="$BENCH_TMP/section.md"
cat >"$section" <<EOF
## \`lab grade\`: $checks PromQL checks against a script-style grader

Produced by \`$command\` on $when, commit $commit (\`make bench\` runs \`hack/bench-grade.sh\`).

| contender | median | min | max | runs |
|---|---:|---:|---:|---:|
| lab grade | $lab_med ms | $lab_min ms | $lab_max ms | $n |
| one \`promtool query instant\` per check (baseline) | $base_med ms | $base_min ms | $base_max ms | $n |

- Speed-up of the medians, baseline / lab: **${speedup}x**; lab's median for the $checks checks: **$lab_med ms**.
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

Machine: $(nproc) CPUs ($cpu_model), $mem memory, $kernel; load average
$load_before before, $load_after after (other work may share the machine; interleaving
spreads it over both contenders). Go $go_version.
EOF

"$benchup" splice "$doc" bench-grade <"$section"
log "wrote the bench-grade section of ${doc#"$repo_root"/}"
echo
cat "$section"
