#!/usr/bin/env bash
# Measures `lab up --provider sim` against kwokctl alone on the same binaries, the two
# run side by side (interleaved, alternating which goes first), and writes the result to
# the bench-up section of docs/benchmarks.md. Run it with `make bench`.
#
#   lab:      bin/lab up --provider sim --name <unique> -f <1 control plane + 1 worker>,
#             from start to exit (lab returns once the nodes are Ready); `lab down` after,
#             untimed. Private LAB_STATE_DIR and KUBECONFIG.
#   baseline: kwokctl create cluster --runtime binary with the same --*-binary flags
#             (kwokctl's default ports and waiting), then kubectl creates the same two
#             Node objects lab registers and waits until both are Ready; deletion
#             untimed. Private KWOK_WORKDIR and kubeconfig.
#
# Environment: LAB_SIM_BIN_DIR (the binaries; default .testenv/bin), BENCH_RUNS (measured
# pairs, default 7; one warm-up pair more is run and discarded), BENCH_TARGET (the
# overhead target in percent, default 30), BENCH_DOC (default docs/benchmarks.md),
# BENCH_LOGS (a directory to keep every run's output in; by default it is deleted).
#
# Every run is timed by hack/benchup on the monotonic clock. The script deletes whatever
# an interrupted run left (lab's and kwokctl's clusters, their processes, its temp dir).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

bin_dir="${LAB_SIM_BIN_DIR:-$repo_root/.testenv/bin}"
lab_bin="$repo_root/bin/lab"
kwokctl="$bin_dir/kwokctl"
# The --*-binary flags lab's sim provider passes (internal/cluster/sim/binaries.go).
binary_flags=(
  --etcd-binary "$bin_dir/etcd"
  --kube-apiserver-binary "$bin_dir/kube-apiserver"
  --kube-controller-manager-binary "$bin_dir/kube-controller-manager"
  --kube-scheduler-binary "$bin_dir/kube-scheduler"
  --kwok-controller-binary "$bin_dir/kwok"
)

# ---------------------------------------------------------------------------------------
# Contender mode: the script runs itself as `bench-up.sh __lab|__baseline NAME`, under
# the timer, so both contenders pay the same wrapper cost. BENCH_TMP comes from the parent.

contender_lab() {
  local name=$1
  LAB_STATE_DIR="$BENCH_TMP/lab/state" KUBECONFIG="$BENCH_TMP/lab/kubeconfig" NO_COLOR=1 \
    exec "$lab_bin" up --provider sim --name "$name" -f "$BENCH_TMP/lab.yaml"
}

contender_baseline() {
  # Wall-clock microseconds ($EPOCHREALTIME, no fork), for the phase breakdown only: the
  # total is timed by benchup on the monotonic clock.
  local name=$1 t0 t1 t2 t3
  export KWOK_WORKDIR="$BENCH_TMP/kwok"
  local kubeconfig="$BENCH_TMP/base/kubeconfig"
  t0=${EPOCHREALTIME/[.,]/}
  "$kwokctl" --name "$name" create cluster --runtime binary --kubeconfig "$kubeconfig" "${binary_flags[@]}"
  t1=${EPOCHREALTIME/[.,]/}
  kubectl --kubeconfig "$kubeconfig" --cache-dir "$BENCH_TMP/base/cache-$name" create -f "$BENCH_TMP/base/nodes-$name.yaml"
  t2=${EPOCHREALTIME/[.,]/}
  kubectl --kubeconfig "$kubeconfig" --cache-dir "$BENCH_TMP/base/cache-$name" wait --for=condition=Ready node --all --timeout=2m
  t3=${EPOCHREALTIME/[.,]/}
  printf '%s %s\n' "kwokctl-create-cluster" $(((t1 - t0) / 1000)) "kubectl-create-nodes" $(((t2 - t1) / 1000)) \
    "kubectl-wait-ready" $(((t3 - t2) / 1000)) >>"$BENCH_TMP/base/phases"
}

case "${1:-}" in
__lab)
  contender_lab "$2"
  ;;
__baseline)
  contender_baseline "$2"
  exit 0
  ;;
"") ;;
*)
  echo "usage: bash hack/bench-up.sh   (see the comment at its top)" >&2
  exit 2
  ;;
esac

# ---------------------------------------------------------------------------------------
# Driver.

# shellcheck source=lib/bench.sh source-path=SCRIPTDIR
source "$repo_root/hack/lib/bench.sh"
bench_init bench-up 7
target="${BENCH_TARGET:-30}"
bench_check BENCH_TARGET "$target" '^[0-9]+$' 'a whole percentage'

for b in kwokctl kwok etcd kube-apiserver kube-controller-manager kube-scheduler; do
  bench_need "$bin_dir/$b" "make testenv-sim"
done
bench_need "$lab_bin" "make build"
command -v kubectl >/dev/null || die "the baseline needs kubectl on PATH"

# pids_under DIR: the pids kwokctl recorded for the clusters under DIR.
pids_under() {
  local f pid
  [[ -d "$1" ]] || return 0
  while IFS= read -r f; do
    pid="$(tr -dc '0-9' <"$f" 2>/dev/null || true)"
    [[ -n "$pid" ]] && echo "$pid"
  done < <(find "$1" -path '*/pids/*.pid' -type f 2>/dev/null)
}

# wait_gone PID...: up to 10s for the processes to exit, then SIGKILL those of ours left.
wait_gone() {
  local pid i alive
  for ((i = 0; i < 100; i++)); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || return 0
    sleep 0.1
  done
  for pid in "$@"; do
    if bench_ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
}

delete_lab() {
  local name=$1 pids
  mapfile -t pids < <(pids_under "$BENCH_TMP/lab/state/labs/$name")
  LAB_STATE_DIR="$BENCH_TMP/lab/state" KUBECONFIG="$BENCH_TMP/lab/kubeconfig" NO_COLOR=1 \
    "$lab_bin" down --yes --name "$name" >>"$BENCH_TMP/logs/down.log" 2>&1 || true
  ((${#pids[@]} == 0)) || wait_gone "${pids[@]}"
}

delete_baseline() {
  local name=$1 pids
  mapfile -t pids < <(pids_under "$BENCH_TMP/kwok/clusters/$name")
  KWOK_WORKDIR="$BENCH_TMP/kwok" "$kwokctl" --name "$name" delete cluster --kubeconfig "$BENCH_TMP/base/kubeconfig" \
    >>"$BENCH_TMP/logs/down.log" 2>&1 || true
  rm -rf "$BENCH_TMP/kwok/clusters/$name" "$BENCH_TMP/base/cache-$name"
  ((${#pids[@]} == 0)) || wait_gone "${pids[@]}"
}

# cleanup: run by bench_on_exit, before the temp dir goes.
cleanup() {
  local d pids
  for d in "$BENCH_TMP"/lab/state/labs/*/; do
    [[ -d "$d" ]] && delete_lab "$(basename "$d")"
  done
  for d in "$BENCH_TMP"/kwok/clusters/*/; do
    [[ -d "$d" ]] && delete_baseline "$(basename "$d")"
  done
  # Whatever lab or kwokctl could not stop (an interrupted create): kill it by pid.
  mapfile -t pids < <(bench_stray_pids)
  if ((${#pids[@]} > 0)); then
    kill -TERM "${pids[@]}" 2>/dev/null
    wait_gone "${pids[@]}"
  fi
  mapfile -t pids < <(bench_stray_pids)
  ((${#pids[@]} == 0)) || log "processes left running (pids ${pids[*]}); kill them by hand"
  if [[ -n "${BENCH_LOGS:-}" ]]; then
    mkdir -p "$BENCH_LOGS" && cp -r "$BENCH_TMP/logs/." "$BENCH_LOGS/" && log "kept every run's output in $BENCH_LOGS"
  fi
}

bench_start
mkdir -p "$BENCH_TMP/lab" "$BENCH_TMP/base" "$BENCH_TMP/kwok"
bench_build benchup

cat >"$BENCH_TMP/lab.yaml" <<'EOF'
apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Lab
metadata:
  name: bench
spec:
  cluster:
    provider: sim
    kubernetesVersion: v1.36
    nodes:
      - role: control-plane
      - role: worker
        count: 1
  stacks: []
EOF

# nodes_yaml PREFIX: the Node objects lab's sim provider registers for this lab
# (internal/cluster/sim/sim.go, nodesFor): the control plane tainted, one worker.
nodes_yaml() {
  local cp="$1-control-plane" worker="$1-worker"
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $cp
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels:
    kubernetes.io/hostname: $cp
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
    app.kubernetes.io/managed-by: lab
    node-role.kubernetes.io/control-plane: ""
    ingress-ready: "true"
spec:
  taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]
status:
  allocatable: {cpu: "8", memory: 16Gi, pods: "110"}
  capacity: {cpu: "8", memory: 16Gi, pods: "110"}
  nodeInfo: {operatingSystem: linux, architecture: amd64, kubeletVersion: fake}
---
apiVersion: v1
kind: Node
metadata:
  name: $worker
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels:
    kubernetes.io/hostname: $worker
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
    app.kubernetes.io/managed-by: lab
status:
  allocatable: {cpu: "8", memory: 16Gi, pods: "110"}
  capacity: {cpu: "8", memory: 16Gi, pods: "110"}
  nodeInfo: {operatingSystem: linux, architecture: amd64, kubeletVersion: fake}
EOF
}

# run_one lab|baseline TAG: one timed run and its untimed deletion; its parts, "a + b + ...",
# in ms, go to parts[WHO].
declare -A parts=()
run_one() {
  local who=$1 tag=$2 name logf
  name="bench-$who-$$-$tag"
  [[ "$who" == baseline ]] && name="bench-base-$$-$tag"
  logf="$(bench_log "$who" "$tag")"
  [[ "$who" == baseline ]] && nodes_yaml "$name" >"$BENCH_TMP/base/nodes-$name.yaml"
  bench_time "$who" "$tag" bash "$repo_root/hack/bench-up.sh" "__$who" "$name" || bench_failed "$who" "$tag"
  if [[ "$who" == lab ]]; then
    # lab's plain progress: "✓ Creating cluster (sim) (4.3s)"; keep "step<TAB>ms".
    sed -n 's/^✓ \(.*\) (\([0-9.]*[µnm]*s\|[0-9]*m[0-9.]*s\))$/\1\t\2/p' "$logf" |
      awk -F'\t' '{
        d = $2; ms = 0
        if (d ~ /m[0-9]/) { split(d, p, "m"); ms = p[1] * 60000; d = p[2] }
        if (d ~ /ms$/) ms += d + 0; else if (d ~ /µs$|us$/) ms += (d + 0) / 1000;
        else if (d ~ /ns$/) ms += 0; else ms += (d + 0) * 1000
        printf "%s\t%d\n", $1, ms
      }' >"$BENCH_TMP/lab/steps-$tag"
    [[ "$tag" == warmup ]] || cat "$BENCH_TMP/lab/steps-$tag" >>"$BENCH_TMP/lab/steps"
    parts[lab]="$(cut -f2 "$BENCH_TMP/lab/steps-$tag" | paste -sd+ | sed 's/+/ + /g')"
    delete_lab "$name"
  else
    parts[baseline]="$(tail -n 3 "$BENCH_TMP/base/phases" | cut -d' ' -f2 | paste -sd+ | sed 's/+/ + /g')"
    # The warm-up's baseline phases are not part of the figures.
    [[ "$tag" != warmup ]] || rm -f "$BENCH_TMP/base/phases"
    delete_baseline "$name"
  fi
}

# record_round I: pair I's row of the report, and its ratio.
pairs=""
record_round() {
  pairs+="| $1 | $bench_first | ${bench_ms[lab]} ms | ${parts[lab]} | ${bench_ms[baseline]} ms | ${parts[baseline]} |"$'\n'
  # Each pair's ratio, in thousandths: the pairs ran under the same load, so the spread of
  # these says how far the machine's noise moves the result.
  echo $((bench_ms[lab] * 1000 / bench_ms[baseline])) >>"$BENCH_TMP/times/ratios"
}

bench_measure lab baseline
pairs="${pairs%$'\n'}"

# ---------------------------------------------------------------------------------------
# Report.

bench_stats
ratio="$(bench_ratio "${med[lab]}" "${med[baseline]}" 2)"
read -r _ pr_med pr_min pr_max < <("$benchup" stats "$BENCH_TMP/times/ratios")
pair_ratios="$(awk -v m="$pr_med" -v lo="$pr_min" -v hi="$pr_max" 'BEGIN { printf "median %.2f, from %.2f to %.2f", m / 1000, lo / 1000, hi / 1000 }')"
overhead="$(awk -v a="${med[lab]}" -v b="${med[baseline]}" 'BEGIN { printf "%+.1f", (a - b) * 100 / b }')"
if awk -v a="${med[lab]}" -v b="${med[baseline]}" -v t="$target" 'BEGIN { exit !((a - b) * 100 / b <= t) }'; then
  verdict="**Met**: lab's overhead is ${overhead}%, within the ${target}% target."
else
  verdict="**Not met**: lab's overhead is ${overhead}%, above the ${target}% target."
fi

# The baseline's phases as steps too: "`kwokctl create cluster`<TAB>ms".
awk '{ gsub(/-/, " ", $1); printf "`%s`\t%s\n", $1, $2 }' "$BENCH_TMP/base/phases" >"$BENCH_TMP/base/steps"
breakdown="$(bench_step_medians "$BENCH_TMP/lab/steps" lab && bench_step_medians "$BENCH_TMP/base/steps" baseline)"

bench_facts
apiserver_version="$(bench_version kube-apiserver "$bin_dir/kube-apiserver")"
etcd_version="$(bench_version etcd "$bin_dir/etcd")"
kwokctl_version="$(bench_version kwokctl "$kwokctl")"
kubectl_version="$(bench_version kubectl)"
bench_command "LAB_SIM_BIN_DIR=$bin_dir bash hack/bench-up.sh" BENCH_RUNS BENCH_TARGET BENCH_LOGS
pair_word="$(bench_plural "$n" pair)"
warmup="$(bench_warmup_ms)"

section="$BENCH_TMP/section.md"
cat >"$section" <<EOF
## \`lab up --provider sim\` against kwokctl alone

Produced by \`$command\` on $when, commit $commit.

| contender | median | min | max | runs |
|---|---:|---:|---:|---:|
| lab | ${med[lab]} ms | ${min[lab]} ms | ${max[lab]} ms | $n |
| kwokctl alone (baseline) | ${med[baseline]} ms | ${min[baseline]} ms | ${max[baseline]} ms | $n |

- Ratio lab / baseline of the medians: **$ratio**; lab's overhead (lab − baseline) / baseline: **${overhead}%**.
- Target: lab's overhead at most ${target}% over kwokctl alone. $verdict
- Ratio lab / baseline within each pair: $pair_ratios (how much the load on the
  machine moves the result).

Where the time goes (medians of the same runs; lab's steps as its progress output prints
them, rounded to 0.1 s above one second; the rest of lab's total is process start, state
and lock files):

| part | median |
|---|---:|
$breakdown

What each contender does, on the same binaries (\`$bin_dir\`):

- **lab**: \`bin/lab up --provider sim --name <unique> -f <lab file>\` with one
  control-plane and one worker node and no stacks, timed from start to exit (lab returns
  once both nodes are Ready); \`bin/lab down\` after, untimed. Private \`LAB_STATE_DIR\`
  and \`KUBECONFIG\`. lab runs \`kwokctl create cluster --runtime binary\` (no \`--wait\`)
  with a kwokctl config giving random free ports, registers the two Node objects
  (retrying every 100 ms until the API server accepts them), merges the kubeconfig
  context and waits for the nodes to be Ready.
- **baseline**: \`kwokctl create cluster --runtime binary --kubeconfig <private>\` with the
  same \`--*-binary\` flags (kwokctl's default ports and waiting), then
  \`kubectl create -f <the same two Node objects, annotated kwok.x-k8s.io/node: fake>\`
  and \`kubectl wait --for=condition=Ready node --all --timeout=2m\`, timed from start to
  Ready; \`kwokctl delete cluster\` after, untimed. Private \`KWOK_WORKDIR\`.
- Each contender runs as \`bash hack/bench-up.sh __lab|__baseline <name>\` under
  \`hack/benchup time\`, which measures wall time on the monotonic clock. One warm-up pair
  ran first and was discarded ($warmup ms); then $n measured $pair_word, interleaved,
  alternating which contender goes first. Each cluster's processes were gone before the
  next run started.

The measured pairs, in order:

| pair | ran first | lab | lab's steps (ms) | baseline | baseline's parts (ms) |
|---:|---|---:|---|---:|---|
$pairs

(lab's steps as in the table above, in its order; the baseline's parts: kwokctl, kubectl
create, kubectl wait.)

Machine: $cpus CPUs ($cpu_model), $mem memory, $kernel; load average
$load_before before, $load_after after (other work may share the machine; interleaving
spreads it over both contenders). Versions: Go ${go_version#go}, kube-apiserver
$apiserver_version, etcd $etcd_version, kwokctl $kwokctl_version, kubectl $kubectl_version.
EOF

bench_publish bench-up "$section"
