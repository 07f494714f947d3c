#!/usr/bin/env bash
# Measures installing the default lab's stacks (monitoring and demo-shop, profile lite)
# with lab against the helm CLI installing the same charts with the same values one
# after the other with --wait, on one sim cluster, the two contenders alternating run
# by run; then writes the bench-stacks and footprint sections of docs/benchmarks.md.
# Run it with `make bench`.
#
#   lab:      bin/lab stacks add monitoring demo-shop --name <the bench lab>: the Helm
#             SDK, the two stacks at once (they do not depend on each other), then lab's
#             readiness (workloads ready); the outcome gate is skipped on sim, as lab
#             says. Untimed after: bin/lab stacks remove ... --yes (waits until the
#             objects and namespaces are gone).
#   baseline: helm install monitoring <chart .tgz> -n monitoring --create-namespace
#             -f charts/monitoring/profiles/lite.yaml --wait, then the same for
#             demo-shop. The .tgz are `helm package` of charts/monitoring and
#             charts/demo-shop, the directories lab embeds. Untimed after: helm
#             uninstall --wait, kubectl delete namespace --wait.
#
# After every run, untimed, the script checks that every pod of both namespaces is
# Running and Ready, so neither contender can win by doing less.
#
# Environment: LAB_SIM_BIN_DIR (binaries, helm included: `bash hack/testenv.sh helm`;
# default .testenv/bin), BENCH_RUNS (measured pairs, default 5; one warm-up pair more
# is run and discarded), BENCH_TARGET (the ratio lab/helm to meet, default 0.7),
# BENCH_DOC (default docs/benchmarks.md).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

bin_dir="${LAB_SIM_BIN_DIR:-$repo_root/.testenv/bin}"
export LAB_SIM_BIN_DIR="$bin_dir"
lab_bin="$repo_root/bin/lab"
helm_bin="$bin_dir/helm"
lab_name="bench-stacks"
stacks=(monitoring demo-shop)

# The contenders' private environment: lab's state and cache, helm's homes, one
# kubeconfig. BENCH_TMP comes from the driver in contender mode.
private_env() {
  export LAB_STATE_DIR="$BENCH_TMP/state" KUBECONFIG="$BENCH_TMP/kubeconfig" XDG_CACHE_HOME="$BENCH_TMP/cache"
  export HELM_CONFIG_HOME="$BENCH_TMP/helm/config" HELM_CACHE_HOME="$BENCH_TMP/helm/cache" HELM_DATA_HOME="$BENCH_TMP/helm/data"
  export NO_COLOR=1
}

# ---------------------------------------------------------------------------------------
# Contender mode: the script runs itself as `bench-stacks.sh __lab|__helm`, under the
# timer, so both contenders pay the same wrapper cost.

contender_lab() {
  exec "$lab_bin" stacks add "${stacks[@]}" --name "$lab_name"
}

contender_helm() {
  local s t0 t1
  for s in "${stacks[@]}"; do
    # Wall-clock microseconds ($EPOCHREALTIME, no fork), for the breakdown only.
    t0=${EPOCHREALTIME/[.,]/}
    "$helm_bin" install "$s" "$BENCH_TMP/charts/$s-0.1.0.tgz" --namespace "$s" --create-namespace \
      -f "$repo_root/charts/$s/profiles/lite.yaml" --wait --timeout 5m
    t1=${EPOCHREALTIME/[.,]/}
    printf 'helm install %s --wait\t%d\n' "$s" $(((t1 - t0) / 1000)) >>"$BENCH_TMP/helm-steps"
  done
}

case "${1:-}" in
__lab)
  private_env
  contender_lab
  ;;
__helm)
  private_env
  contender_helm
  exit 0
  ;;
"") ;;
*)
  echo "usage: bash hack/bench-stacks.sh   (see the comment at its top)" >&2
  exit 2
  ;;
esac

# ---------------------------------------------------------------------------------------
# Driver.

# shellcheck source=lib/bench.sh source-path=SCRIPTDIR
source "$repo_root/hack/lib/bench.sh"
bench_init bench-stacks 5
target="${BENCH_TARGET:-0.7}"
bench_check BENCH_TARGET "$target" '^[0-9]+(\.[0-9]+)?$' 'a ratio such as 0.7'

bench_need "$lab_bin" "make build"
bench_need "$helm_bin" "bash hack/testenv.sh helm"
command -v kubectl >/dev/null || die "the baseline's cleanup needs kubectl on PATH"

# cleanup RC: run by bench_on_exit, before the temp dir goes; keeps the logs of a failed run.
cleanup() {
  local rc=$1
  if [[ -d "$BENCH_TMP/state/labs/$lab_name" ]]; then
    "$lab_bin" down --yes --name "$lab_name" >>"$BENCH_TMP/logs/down.log" 2>&1 ||
      log "could not delete the bench lab; see $BENCH_TMP/logs/down.log"
  fi
  [[ $rc -ne 0 && -d "$BENCH_TMP/logs" ]] && cp -r "$BENCH_TMP/logs" "${TMPDIR:-/tmp}/bench-stacks-logs.$$" &&
    log "logs kept in ${TMPDIR:-/tmp}/bench-stacks-logs.$$"
}

bench_start
mkdir -p "$BENCH_TMP/charts"
private_env
bench_build benchup

cat >"$BENCH_TMP/lab.yaml" <<EOF
apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Lab
metadata:
  name: $lab_name
spec:
  cluster:
    provider: sim
    kubernetesVersion: v1.36
    nodes:
      - role: control-plane
      - role: worker
        count: 1
  stacks: []
  profile: lite
EOF
log "creating the sim cluster both contenders share"
"$lab_bin" up --provider sim -f "$BENCH_TMP/lab.yaml" >"$BENCH_TMP/logs/up.log" 2>&1 || { cat "$BENCH_TMP/logs/up.log" >&2; die "lab up failed"; }

log "packaging the bundled charts for helm"
for s in "${stacks[@]}"; do
  "$helm_bin" package "$repo_root/charts/$s" --destination "$BENCH_TMP/charts" >/dev/null
  [[ -f "$BENCH_TMP/charts/$s-0.1.0.tgz" ]] || die "helm package did not make $s-0.1.0.tgz (did the chart's version change? update this script)"
done

# expect_running: every pod of both namespaces Running and Ready, as many as lab's
# footprint counts for the default lab's stacks on the same two nodes (the last "pods"
# of its JSON is the total).
expected_pods="$("$lab_bin" footprint --lab default --profile lite -o json | awk -F': ' '/"pods"/ { n = $2 } END { gsub(/[^0-9]/, "", n); print n }')"
[[ "$expected_pods" =~ ^[1-9][0-9]*$ ]] || die "lab footprint did not count the pods (got '$expected_pods')"
expect_running() {
  local who=$1 ready
  ready="$(kubectl get pods -n monitoring -o jsonpath='{range .items[*]}{.status.phase}/{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | grep -c '^Running/True$' || true)"
  ready=$((ready + $(kubectl get pods -n demo-shop -o jsonpath='{range .items[*]}{.status.phase}/{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | grep -c '^Running/True$' || true)))
  [[ "$ready" -eq "$expected_pods" ]] || die "after the $who run, $ready pods are Running and Ready, want $expected_pods"
}

remove_lab() {
  "$lab_bin" stacks remove "${stacks[@]}" --name "$lab_name" --yes >>"$BENCH_TMP/logs/remove.log" 2>&1 ||
    die "lab stacks remove failed; see the log"
}

remove_helm() {
  local s
  for s in "${stacks[@]}"; do
    "$helm_bin" uninstall "$s" --namespace "$s" --wait --timeout 5m >>"$BENCH_TMP/logs/remove.log" 2>&1 || die "helm uninstall $s failed"
  done
  kubectl delete namespace "${stacks[@]}" --wait=true --timeout=5m >>"$BENCH_TMP/logs/remove.log" 2>&1 || die "deleting the namespaces failed"
}

# run_one lab|helm TAG: one timed run, its check and its untimed removal.
run_one() {
  local who=$1 tag=$2 logf
  logf="$(bench_log "$who" "$tag")"
  bench_time "$who" "$tag" bash "$repo_root/hack/bench-stacks.sh" "__$who" || bench_failed "$who" "$tag"
  expect_running "$who"
  if [[ "$who" == lab ]]; then
    # lab's plain progress: "✓ Installing monitoring (monitoring 0.1.0) (412ms)".
    [[ "$tag" == warmup ]] || sed -n 's/^✓ \(.*\) (\([0-9.]*\)\(m\?s\))$/\1\t\2\t\3/p' "$logf" |
      awk -F'\t' '$1 !~ /^stacks / { ms = ($3 == "ms") ? $2 : $2 * 1000; printf "%s\t%d\n", $1, ms }' >>"$BENCH_TMP/lab-steps"
    remove_lab
  else
    [[ "$tag" != warmup ]] || : >"$BENCH_TMP/helm-steps"
    remove_helm
  fi
}

# record_round I: "lab / helm" of pair I, "*" before the one that went first.
pairs=()
record_round() { pairs+=("$(bench_starred lab) / $(bench_starred helm)"); }

bench_measure lab helm

# ---------------------------------------------------------------------------------------
# Report.

bench_stats
ratio="$(bench_ratio "${med[lab]}" "${med[helm]}" 2)"
if awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r <= t) }'; then
  verdict="**Met**: lab takes ${ratio} of helm's time, within the target of ${target}."
else
  verdict="**Not met**: lab takes ${ratio} of helm's time, above the target of ${target}."
fi

breakdown="$(bench_step_medians "$BENCH_TMP/lab-steps" lab && bench_step_medians "$BENCH_TMP/helm-steps" helm)"

bench_facts
bench_command "LAB_SIM_BIN_DIR=$bin_dir bash hack/bench-stacks.sh" BENCH_RUNS BENCH_TARGET
pair_list="$(bench_join '; ' "${pairs[@]}")"
pair_word="$(bench_plural "$n" pair)"
warmup="$(bench_warmup_ms)"
helm_version="$(bench_version helm "$helm_bin")"
apiserver_version="$(bench_version kube-apiserver "$bin_dir/kube-apiserver")"

section="$BENCH_TMP/bench-stacks.md"
cat >"$section" <<EOF
## Installing the default lab's stacks: lab against \`helm install --wait\`

Produced by \`$command\` on $when, commit $commit.

| contender | median | min | max | runs |
|---|---:|---:|---:|---:|
| lab (\`lab stacks add monitoring demo-shop\`) | ${med[lab]} ms | ${min[lab]} ms | ${max[lab]} ms | $n |
| helm CLI, one \`helm install --wait\` after the other (baseline) | ${med[helm]} ms | ${min[helm]} ms | ${max[helm]} ms | $n |

- Ratio lab / helm of the medians: **$ratio**.
- Target: at most ${target}. $verdict
- Where the difference comes from: lab installs the two stacks at the same time and
  checks readiness every 250 ms; \`helm install --wait\` checks every 2 s (Helm's
  \`pkg/kube\` waiter) and the second chart starts only once the first is ready.

Where the time goes (medians of the same runs; lab's steps as its progress prints them,
the two stacks' steps overlapping in time; the rest of lab's total is process start,
reading the lab's record and loading the charts):

| part | median |
|---|---:|
$breakdown

What each contender does, on one sim cluster (1 control-plane and 1 worker node) that
both share, the charts of \`charts/\` with their \`profiles/lite.yaml\` values:

- **lab**: \`bin/lab stacks add monitoring demo-shop\`, timed from start to exit: the
  Helm SDK installs both releases at the same time (neither depends on the other), then
  lab polls every 250 ms until every Deployment, StatefulSet and DaemonSet of each
  release is ready; the monitoring outcome gate is skipped on a simulated cluster, as
  lab reports. Untimed after: \`bin/lab stacks remove ... --yes\`.
- **baseline**: \`helm install <stack> <packaged chart> --namespace <stack>
  --create-namespace -f charts/<stack>/profiles/lite.yaml --wait --timeout 5m\`, for
  monitoring then demo-shop, timed from start to exit; the charts are \`helm package\`
  of the same directories lab embeds. Untimed after: \`helm uninstall --wait\` and
  \`kubectl delete namespace --wait\`.
- After every run (untimed) the script checks that all $expected_pods pods of both
  namespaces are Running and Ready. Each contender runs as \`bash hack/bench-stacks.sh
  __lab|__helm\` under \`hack/benchup time\` (monotonic clock). One warm-up pair ran first
  and was discarded ($warmup ms); then $n measured $pair_word, alternating which
  contender goes first.

Pairs in order, lab / helm in ms (\* ran first): $pair_list.

Machine: $cpus CPUs ($cpu_model), $mem memory, $kernel; load average
$load_before before, $load_after after (other work may share the machine; alternating
spreads it over both contenders). Versions: Go ${go_version#go},
helm $helm_version, kube-apiserver $apiserver_version.
EOF

# The footprint of the default lab, from lab itself.
fp_table="$("$lab_bin" footprint --lab default)"
fp_total_bytes="$("$lab_bin" footprint --lab default -o json |
  awk '/"total"/ { t = 1 } t && /"memoryRequestsBytes"/ { gsub(/[^0-9]/, ""); print; exit }')"
budget=$((1536 * 1024 * 1024))
fp_total="$(awk -v b="$fp_total_bytes" 'BEGIN { printf "%.2f GiB (%d MiB)", b / 1073741824, b / 1048576 }')"
if ((fp_total_bytes <= budget)); then
  fp_verdict="**Met**: $fp_total of memory requests, within the 1.5 GiB budget."
else
  fp_verdict="**Not met**: $fp_total of memory requests, above the 1.5 GiB budget."
fi
# Columns are separated by runs of spaces; a cell ("448 MiB") holds single spaces.
fp_rows="$(printf '%s\n' "$fp_table" | awk -F '   *' '
  NR == 1 { printf "| %s |", $1; for (i = 2; i <= NF; i++) printf " %s |", $i; printf "\n|---|"; for (i = 2; i <= NF; i++) printf "%s", "---:|"; printf "\n"; next }
  { printf "| %s |", ($1 == "total" ? "**total**" : $1); for (i = 2; i <= NF; i++) printf " %s |", $i; printf "\n" }')"

fp_section="$BENCH_TMP/footprint.md"
cat >"$fp_section" <<EOF
## Footprint of the default lab

Produced by \`$command\` on $when, commit $commit, from
\`bin/lab footprint --lab default\` (monitoring and demo-shop, profile lite, 2 nodes):
every bundled chart rendered as \`lab up\` installs it, CPU and memory requests and
limits summed per stack (DaemonSets once per node, Jobs left out).

$fp_rows

- Target: the default lab requests at most 1.5 GiB of memory. $fp_verdict
EOF

bench_publish bench-stacks "$section" footprint "$fp_section"
