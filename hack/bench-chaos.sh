#!/usr/bin/env bash
# Measures `lab chaos run pod-kill` against `kubectl delete pod` of the same 100 pods, on
# one sim lab, the contenders interleaved round by round (which goes first rotates), and
# writes the result to the bench-chaos section of docs/benchmarks.md. Run it with
# `make bench`.
#
#   lab:       bin/lab chaos run pod-kill -n bench -l app=bench --count 100 (all of them)
#              --duration 0 --recovery-timeout 0 --yes, from start to exit. lab returns
#              once every chosen pod is gone from the API (then it removes its
#              annotation and closes the journal entry: counted too).
#   kubectl:   kubectl -n bench delete pod/<the same 100 names>, from start to exit
#              (kubectl waits until the pods are gone, by default). The baseline.
#   kubectl×10: the same names split over 10 kubectl processes running at once, for
#              context: each process has its own client-side rate limiter.
#
# Between runs the Deployment's ReplicaSet brings the pods back; the next run starts
# once 100 new pods are Running and none is terminating. The names each contender
# deletes are read just before its run, untimed, and checked gone just after.
#
# Environment: LAB_SIM_BIN_DIR (default .testenv/bin), BENCH_RUNS (measured rounds,
# default 5; one warm-up round more is discarded), BENCH_PODS (default 100),
# BENCH_TARGET (the ratio target lab / kubectl, default 1.2), BENCH_DOC (default
# docs/benchmarks.md).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

bin_dir="${LAB_SIM_BIN_DIR:-$repo_root/.testenv/bin}"
export LAB_SIM_BIN_DIR="$bin_dir"
lab_bin="$repo_root/bin/lab"
runs="${BENCH_RUNS:-5}"
pods="${BENCH_PODS:-100}"
target="${BENCH_TARGET:-1.2}"
doc="${BENCH_DOC:-$repo_root/docs/benchmarks.md}"
lab_name="bench-chaos-$$"

log() { printf 'bench-chaos: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$runs'"
[[ "$pods" =~ ^[1-9][0-9]*$ ]] && ((pods <= 105)) || die "BENCH_PODS must be between 1 and 105 (one sim worker holds 110 pods), not '$pods'"
[[ "$target" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "BENCH_TARGET must be a number, not '$target'"
[[ -x "$lab_bin" ]] || die "$lab_bin is missing: run \`make build\` (or \`make bench\`, which does)"
[[ -x "$bin_dir/kwokctl" ]] || die "$bin_dir/kwokctl is missing: run \`make testenv-sim\` (or \`make bench\`, which does)"
command -v kubectl >/dev/null || die "the baseline needs kubectl on PATH"

BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench-chaos.XXXXXX")"
export LAB_STATE_DIR="$BENCH_TMP/state" KUBECONFIG="$BENCH_TMP/kubeconfig" NO_COLOR=1
mkdir -p "$BENCH_TMP/times" "$BENCH_TMP/logs"
k() { kubectl --cache-dir "$BENCH_TMP/kube-cache" "$@"; }

cleanup() {
  local rc=$? pids p
  trap - EXIT INT TERM
  set +e
  "$lab_bin" down --name "$lab_name" >>"$BENCH_TMP/logs/down.log" 2>&1
  # Whatever lab down could not stop (an interrupted up): the lab's processes run from
  # kwokctl's copies under the temp dir, so their command lines name it.
  mapfile -t pids < <(for p in /proc/[0-9]*; do
    [[ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" == *"$BENCH_TMP"* ]] && echo "${p#/proc/}"
  done)
  ((${#pids[@]} == 0)) || kill -KILL "${pids[@]}" 2>/dev/null
  rm -rf "$BENCH_TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building the timer (hack/benchup)"
go build -o "$BENCH_TMP/benchup" ./hack/benchup
benchup="$BENCH_TMP/benchup"

cat >"$BENCH_TMP/lab.yaml" <<'EOF'
apiVersion: lab.cloudnativelab.io/v1alpha1
kind: Lab
metadata: {name: bench-chaos}
spec:
  cluster:
    provider: sim
    nodes: [{role: control-plane}, {role: worker}]
  stacks: []
EOF
log "creating sim lab $lab_name"
"$lab_bin" up -f "$BENCH_TMP/lab.yaml" --name "$lab_name" >"$BENCH_TMP/logs/up.log" 2>&1 || { cat "$BENCH_TMP/logs/up.log" >&2; die "lab up failed"; }
k create namespace bench >/dev/null
k -n bench create deployment bench --image=nginx:1.27 --replicas="$pods" >/dev/null

# wait_pods: until the Deployment has $pods Running pods and no terminating one.
wait_pods() {
  local i running terminating
  for ((i = 0; i < 600; i++)); do
    running="$(k -n bench get pods -l app=bench --field-selector=status.phase=Running -o name | wc -l)"
    terminating="$(k -n bench get pods -l app=bench -o jsonpath='{range .items[?(@.metadata.deletionTimestamp)]}x{end}')"
    if ((running == pods)) && [[ -z "$terminating" ]]; then return 0; fi
    sleep 0.2
  done
  die "the pods did not come back: $running Running, terminating: ${#terminating}"
}

# check_gone NAMES-FILE: every pod named there is gone.
check_gone() {
  local left
  left="$(k -n bench get pods -o name | grep -cxFf "$1" || true)"
  ((left == 0)) || die "$left of the chosen pods still exist after the run"
}

# run_one lab|kubectl|parallel TAG: one timed run.
run_one() {
  local who=$1 tag=$2 out names logf
  out="$BENCH_TMP/times/$who"
  [[ "$tag" == warmup ]] && out="$BENCH_TMP/times/warmup-$who"
  logf="$BENCH_TMP/logs/$who-$tag.log"
  wait_pods
  names="$BENCH_TMP/names-$who-$tag"
  k -n bench get pods -l app=bench -o name >"$names"
  case "$who" in
  lab)
    "$benchup" time "$out" -- "$lab_bin" chaos run pod-kill --name "$lab_name" -n bench -l app=bench --count "$pods" \
      --max-pods "$pods" --max-percent 100 --duration 0 --recovery-timeout 0 --yes >"$logf" 2>&1 ||
      { cat "$logf" >&2; die "lab chaos run failed"; }
    # lab's plain progress: "✓ Injecting pod-kill-...: ... (971ms)"; keep the step time.
    [[ "$tag" == warmup ]] || sed -n 's/^✓ Injecting .* (\([0-9.]*\)\(ms\|s\))$/\1 \2/p' "$logf" |
      awk '{ print ($2 == "s") ? $1 * 1000 : $1 }' >>"$BENCH_TMP/lab-inject"
    ;;
  kubectl)
    # shellcheck disable=SC2046 # one argument per pod name
    "$benchup" time "$out" -- kubectl --cache-dir "$BENCH_TMP/kube-cache" -n bench delete $(cat "$names") >"$logf" 2>&1 ||
      { cat "$logf" >&2; die "kubectl delete failed"; }
    ;;
  parallel)
    "$benchup" time "$out" -- bash -c "xargs -P 10 -n $(((pods + 9) / 10)) kubectl --cache-dir '$BENCH_TMP/kube-cache' -n bench delete <'$names'" >"$logf" 2>&1 ||
      { cat "$logf" >&2; die "parallel kubectl delete failed"; }
    ;;
  esac
  check_gone "$names"
  last_ms="$(tail -n 1 "$out")"
  log "$who $tag: $last_ms ms"
}

contenders=(lab kubectl parallel)
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
log "warm-up round (discarded)"
for who in "${contenders[@]}"; do run_one "$who" warmup; done
rounds=""
for ((i = 1; i <= runs; i++)); do
  declare -A ms=()
  order=()
  for ((j = 0; j < 3; j++)); do order+=("${contenders[$(((i - 1 + j) % 3))]}"); done
  for who in "${order[@]}"; do
    run_one "$who" "$i"
    ms[$who]=$last_ms
  done
  rounds+="| $i | ${order[0]} | ${ms[lab]} ms | ${ms[kubectl]} ms | ${ms[parallel]} ms |"$'\n'
  unset ms
done
rounds="${rounds%$'\n'}"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# Why kubectl takes as long as it does: its own client-side rate limiter, seen in its
# verbose log (one untimed run after the measured ones).
wait_pods
k -n bench get pods -l app=bench -o name >"$BENCH_TMP/names-verbose"
# shellcheck disable=SC2046
kubectl --cache-dir "$BENCH_TMP/kube-cache" -n bench delete $(cat "$BENCH_TMP/names-verbose") -v=6 >"$BENCH_TMP/logs/verbose.log" 2>&1 || true
throttled="$(grep -c 'due to client-side throttling' "$BENCH_TMP/logs/verbose.log" || true)"

read -r n lab_med lab_min lab_max < <("$benchup" stats "$BENCH_TMP/times/lab")
read -r _ kc_med kc_min kc_max < <("$benchup" stats "$BENCH_TMP/times/kubectl")
read -r _ par_med par_min par_max < <("$benchup" stats "$BENCH_TMP/times/parallel")
inject_med="$("$benchup" stats <(awk '{ printf "%d\n", $1 }' "$BENCH_TMP/lab-inject") | cut -d' ' -f2)"
ratio="$(awk -v a="$lab_med" -v b="$kc_med" 'BEGIN { printf "%.3f", a / b }')"
ratio_par="$(awk -v a="$lab_med" -v b="$par_med" 'BEGIN { printf "%.2f", a / b }')"
if awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r <= t) }'; then
  verdict="**Met**: lab / kubectl is $ratio, at most $target."
else
  verdict="**Not met**: lab / kubectl is $ratio, above $target."
fi

mem="$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
go_version="$(go env GOVERSION)"
apiserver_version="$("$bin_dir/kube-apiserver" --version | awk '{ print $2 }')"
kwok_version="$("$bin_dir/kwokctl" --version | awk '{ print $3 }')"
kubectl_version="$(kubectl version --client 2>/dev/null | awk '/^Client Version/ { print $3 }')"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -z "$(git status --porcelain 2>/dev/null)" ]] || commit+=" (with uncommitted changes)"
command="make bench"
[[ -n "${MAKELEVEL:-}" ]] || command="LAB_SIM_BIN_DIR=$bin_dir bash hack/bench-chaos.sh"
[[ -z "${BENCH_RUNS:-}" ]] || command="BENCH_RUNS=$runs $command"
[[ -z "${BENCH_PODS:-}" ]] || command="BENCH_PODS=$pods $command"
warmup="$(cat "$BENCH_TMP/times/warmup-lab") / $(cat "$BENCH_TMP/times/warmup-kubectl") / $(cat "$BENCH_TMP/times/warmup-parallel")"

section="$BENCH_TMP/section.md"
cat >"$section" <<EOF
## \`lab chaos run pod-kill\` against \`kubectl delete pod\`, $pods pods

Produced by \`$command\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit.

Time from the start of the command until every chosen pod is gone, on one sim lab
(real kube-apiserver, etcd and controllers; kwok plays the kubelet), $pods pods of one
Deployment, all of them deleted each run.

| contender | median | min | max | runs |
|---|---:|---:|---:|---:|
| lab chaos run pod-kill | $lab_med ms | $lab_min ms | $lab_max ms | $n |
| kubectl delete pod (baseline) | $kc_med ms | $kc_min ms | $kc_max ms | $n |
| kubectl delete pod, 10 processes at once (context) | $par_med ms | $par_min ms | $par_max ms | $n |

- Ratio lab / kubectl of the medians: **$ratio** (target: at most $target). $verdict
- Ratio lab / 10 kubectl processes: $ratio_par.
- lab's "Injecting" step (deleting the pods and waiting until they are gone, as its
  progress prints it): median $inject_med ms; the rest of lab's total is process start,
  reading the lab, planning (one list of the namespace's pods, the owner's ReplicaSet),
  the journal entry written and synced three times, and the revert that removes the
  Deployment's chaos annotation.

Why the baseline is slow: kubectl deletes one pod per request and then waits for each,
and it throttles itself on the client side (this kubectl: 5 requests/s after a burst of
10). In a verbose run after the measured ones, $throttled of its requests logged "due
to client-side throttling". lab sends its deletions 32 at a time under a limit of 200
requests/s, then polls the pod list every 50 ms until none of the victims (by UID) is
left. The 10-process row shows kubectl with ten rate limiters instead of one.

What each contender runs, with a private \`LAB_STATE_DIR\` and \`KUBECONFIG\`:

- **lab**: \`bin/lab chaos run pod-kill --name <lab> -n bench -l app=bench --count $pods
  --max-pods $pods --max-percent 100 --duration 0 --recovery-timeout 0 --yes\`.
- **kubectl**: \`kubectl -n bench delete pod/<name> ...\` with the $pods names listed just
  before (untimed); kubectl waits until they are gone (its default \`--wait\`).
- **10 processes**: the same names through \`xargs -P 10\`, $(((pods + 9) / 10)) per \`kubectl delete\`.
- Each run is timed by \`hack/benchup time\` on the monotonic clock. Before each run the
  ReplicaSet has brought $pods Running pods back and none is terminating; after it, the
  script checks that none of the names read before still exists. One warm-up round ran
  first and was discarded ($warmup ms); then $n measured round(s), the first contender
  rotating each round.

The measured rounds, in order:

| round | ran first | lab | kubectl | 10 kubectl processes |
|---:|---|---:|---:|---:|
$rounds

Machine: $(nproc) CPUs ($cpu_model), $mem memory, $(uname -sr); load average
$load_before before, $load_after after (other work may share the machine; interleaving
spreads it over the contenders). Versions: Go ${go_version#go}, kube-apiserver
$apiserver_version, kwokctl $kwok_version, kubectl $kubectl_version.
EOF

"$benchup" splice "$doc" bench-chaos <"$section"
log "wrote the bench-chaos section of ${doc#"$repo_root"/}"
echo
cat "$section"
