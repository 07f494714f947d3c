#!/usr/bin/env bash
# Measures `lab chaos run pod-kill` against `kubectl delete pod` of the same 100 pods, on
# one sim lab, the contenders interleaved round by round (which goes first rotates), and
# writes the result to the bench-chaos section of docs/benchmarks.md. Run it with
# `make bench`.
#
# Every contender deletes with the same grace period: each pod's own
# terminationGracePeriodSeconds (lab's pod-kill without --grace-period sends none;
# kubectl's --grace-period=-1, its default, does the same).
#
#   lab:       bin/lab chaos run pod-kill -n bench -l app=bench --count 100 (all of them)
#              --duration 0 --recovery-timeout 0 --yes, from start to exit. lab returns
#              once every chosen pod is gone from the API (then it removes its
#              annotation and closes the journal entry: counted too).
#   nowait:    kubectl -n bench delete --wait=false --grace-period=-1 pod/<the same 100
#              names>, from start to exit: the deletion requests only. The baseline: it
#              does less than lab, which also waits until the pods are gone.
#   kubectl:   the same with kubectl's default --wait=true: it waits until the pods are
#              gone, as lab does (like for like on that count).
#   kubectl×10: the names split over 10 waiting kubectl processes running at once, for
#              context: each process has its own client-side rate limiter.
#
# Between runs the Deployment's ReplicaSet brings the pods back; the next run starts
# once 100 new pods are Running and none is terminating. The names each contender
# deletes are read just before its run, untimed, and checked gone just after.
#
# Environment: LAB_SIM_BIN_DIR (default .testenv/bin), BENCH_RUNS (measured rounds,
# default 5; one warm-up round more is discarded), BENCH_PODS (default 100),
# BENCH_TARGET (the ratio target lab / kubectl --wait=false, default 1.2), BENCH_DOC (default
# docs/benchmarks.md).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

bin_dir="${LAB_SIM_BIN_DIR:-$repo_root/.testenv/bin}"
export LAB_SIM_BIN_DIR="$bin_dir"
lab_bin="$repo_root/bin/lab"
lab_name="bench-chaos-$$"

# shellcheck source=lib/bench.sh source-path=SCRIPTDIR
source "$repo_root/hack/lib/bench.sh"
bench_init bench-chaos 5
pods="${BENCH_PODS:-100}"
if [[ ! "$pods" =~ ^[1-9][0-9]*$ ]] || ((pods > 105)); then
  bench_usage "BENCH_PODS must be between 1 and 105 (one sim worker holds 110 pods), not '$pods'"
fi
target="${BENCH_TARGET:-1.2}"
bench_check BENCH_TARGET "$target" '^[0-9]+(\.[0-9]+)?$' 'a number'
bench_need "$lab_bin" "make build"
bench_need "$bin_dir/kwokctl" "make testenv-sim"
command -v kubectl >/dev/null || die "the baseline needs kubectl on PATH"

# cleanup: run by bench_on_exit, before the temp dir goes.
cleanup() {
  local pids
  "$lab_bin" down --yes --name "$lab_name" >>"$BENCH_TMP/logs/down.log" 2>&1
  # Whatever lab down could not stop (an interrupted up): the lab's processes run from
  # kwokctl's copies under the temp dir, so their command lines name it.
  mapfile -t pids < <(bench_stray_pids)
  ((${#pids[@]} == 0)) || kill -KILL "${pids[@]}" 2>/dev/null
}

bench_start
export LAB_STATE_DIR="$BENCH_TMP/state" KUBECONFIG="$BENCH_TMP/kubeconfig" NO_COLOR=1
k() { kubectl --cache-dir "$BENCH_TMP/kube-cache" "$@"; }
bench_build benchup

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

# wait_gone NAMES-FILE: until every pod named there is gone (a minute at most).
wait_gone() {
  local i left
  for ((i = 0; i < 300; i++)); do
    left="$(k -n bench get pods -o name | grep -cxFf "$1" || true)"
    if ((left == 0)); then return 0; fi
    sleep 0.2
  done
  die "$left of the chosen pods still exist a minute after the run"
}

# run_one lab|kubectl|parallel TAG: one timed run.
run_one() {
  local who=$1 tag=$2 names logf
  logf="$(bench_log "$who" "$tag")"
  wait_pods
  names="$BENCH_TMP/names-$who-$tag"
  k -n bench get pods -l app=bench -o name >"$names"
  case "$who" in
  lab)
    bench_time lab "$tag" "$lab_bin" chaos run pod-kill --name "$lab_name" -n bench -l app=bench --count "$pods" \
      --max-pods "$pods" --max-percent 100 --duration 0 --recovery-timeout 0 --yes ||
      { cat "$logf" >&2; die "lab chaos run failed"; }
    # lab's plain progress: "✓ Injecting pod-kill-...: ... (971ms)"; keep the step time.
    [[ "$tag" == warmup ]] || sed -n 's/^✓ Injecting .* (\([0-9.]*\)\(ms\|s\))$/\1 \2/p' "$logf" |
      awk '{ print ($2 == "s") ? $1 * 1000 : $1 }' >>"$BENCH_TMP/lab-inject"
    ;;
  nowait)
    # shellcheck disable=SC2046 # one argument per pod name
    bench_time nowait "$tag" kubectl --cache-dir "$BENCH_TMP/kube-cache" -n bench delete --wait=false --grace-period=-1 $(cat "$names") ||
      { cat "$logf" >&2; die "kubectl delete --wait=false failed"; }
    ;;
  kubectl)
    # shellcheck disable=SC2046 # one argument per pod name
    bench_time kubectl "$tag" kubectl --cache-dir "$BENCH_TMP/kube-cache" -n bench delete --wait=true --grace-period=-1 $(cat "$names") ||
      { cat "$logf" >&2; die "kubectl delete failed"; }
    ;;
  parallel)
    bench_time parallel "$tag" bash -c "xargs -P 10 -n $(((pods + 9) / 10)) kubectl --cache-dir '$BENCH_TMP/kube-cache' -n bench delete --grace-period=-1 <'$names'" ||
      { cat "$logf" >&2; die "parallel kubectl delete failed"; }
    ;;
  esac
  # kubectl --wait=false returns before the pods are gone: wait for them, untimed, so
  # that every run ends in the same state. The others said they waited: check it.
  if [[ "$who" == nowait ]]; then wait_gone "$names"; else check_gone "$names"; fi
}

# record_round I: round I's row of the report.
rounds=""
record_round() {
  rounds+="| $1 | $bench_first | ${bench_ms[lab]} ms | ${bench_ms[nowait]} ms | ${bench_ms[kubectl]} ms | ${bench_ms[parallel]} ms |"$'\n'
}

bench_measure lab nowait kubectl parallel
rounds="${rounds%$'\n'}"

# Why kubectl takes as long as it does: its own client-side rate limiter, seen in its
# verbose log (one untimed run after the measured ones).
wait_pods
k -n bench get pods -l app=bench -o name >"$BENCH_TMP/names-verbose"
# shellcheck disable=SC2046
kubectl --cache-dir "$BENCH_TMP/kube-cache" -n bench delete --grace-period=-1 $(cat "$BENCH_TMP/names-verbose") -v=6 >"$BENCH_TMP/logs/verbose.log" 2>&1 || true
throttled="$(grep -c 'due to client-side throttling' "$BENCH_TMP/logs/verbose.log" || true)"

bench_stats
inject_med="$(bench_median <(awk '{ printf "%d\n", $1 }' "$BENCH_TMP/lab-inject"))"
ratio="$(bench_ratio "${med[lab]}" "${med[nowait]}" 3)"
ratio_wait="$(bench_ratio "${med[lab]}" "${med[kubectl]}" 3)"
ratio_par="$(bench_ratio "${med[lab]}" "${med[parallel]}" 2)"
if awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r <= t) }'; then
  verdict="**Met**: lab / kubectl --wait=false is $ratio, at most $target."
else
  verdict="**Not met**: lab / kubectl --wait=false is $ratio, above $target."
fi

bench_facts
apiserver_version="$(bench_version kube-apiserver "$bin_dir/kube-apiserver")"
kwok_version="$(bench_version kwokctl "$bin_dir/kwokctl")"
kubectl_version="$(bench_version kubectl)"
bench_command "LAB_SIM_BIN_DIR=$bin_dir bash hack/bench-chaos.sh" BENCH_RUNS BENCH_PODS BENCH_TARGET
warmup="$(bench_warmup_ms)"

section="$BENCH_TMP/section.md"
cat >"$section" <<EOF
## \`lab chaos run pod-kill\` against \`kubectl delete pod\`, $pods pods

Produced by \`$command\` on $when, commit $commit.

Time from the start of the command until it exits, on one sim lab (real kube-apiserver,
etcd and controllers; kwok plays the kubelet), $pods pods of one Deployment, all of them
deleted each run, every contender with the same grace period: each pod's own
\`terminationGracePeriodSeconds\` (lab's pod-kill without \`--grace-period\` sends none;
kubectl's \`--grace-period=-1\`, its default, does the same).

lab returns once every pod it deleted is gone from the API: it waits, as \`kubectl
delete\` does by default. The baseline is \`kubectl delete --wait=false\`, which only
sends the deletions: it does less than lab, so the ratio against it is the one least in
lab's favour. The waiting \`kubectl delete\` is the like-for-like row.

| contender | median | min | max | runs |
|---|---:|---:|---:|---:|
| lab chaos run pod-kill (deletes, waits until gone) | ${med[lab]} ms | ${min[lab]} ms | ${max[lab]} ms | $n |
| kubectl delete --wait=false (deletes only; baseline) | ${med[nowait]} ms | ${min[nowait]} ms | ${max[nowait]} ms | $n |
| kubectl delete (deletes, waits until gone) | ${med[kubectl]} ms | ${min[kubectl]} ms | ${max[kubectl]} ms | $n |
| kubectl delete, 10 processes at once (context) | ${med[parallel]} ms | ${min[parallel]} ms | ${max[parallel]} ms | $n |

- Ratio lab / kubectl --wait=false of the medians: **$ratio** (target: at most $target). $verdict
- Ratio lab / kubectl delete waiting (like for like): **$ratio_wait**.
- Ratio lab / 10 waiting kubectl processes: $ratio_par.
- lab's "Injecting" step (deleting the pods and waiting until they are gone, as its
  progress prints it): median $inject_med ms; the rest of lab's total is process start,
  reading the lab, planning (one list of the namespace's pods, the owner's ReplicaSet),
  the journal entry written and synced three times, and the revert that removes the
  Deployment's chaos annotation.

Why kubectl is slow even without waiting: it deletes one pod per request and throttles
itself on the client side (this kubectl: 5 requests/s after a burst of 10); waiting adds
a request per pod under the same limit. In a verbose waiting run after the measured
ones, $throttled of its requests logged "due to client-side throttling". lab sends its
deletions 32 at a time under a limit of 200 requests/s, then polls the pod list every
50 ms until none of the victims (by UID) is left. The 10-process row shows kubectl with
ten rate limiters instead of one.

For context, Chaos Mesh's pod-kill (a PodChaos with \`action: pod-kill\`) deletes each
selected pod with the PodChaos' \`gracePeriod\` in seconds, default 0: a grace period of
0 removes the pod object at once, without waiting for the kubelet to stop its containers
(as \`kubectl delete --grace-period=0 --force\` does). Its controller counts the fault
injected once the deletion is accepted; it does not wait for the pod to be gone. It is
closest to the \`--wait=false\` row with a grace period of 0. lab keeps each pod's own
grace period by default, so the application gets its SIGTERM and its time to stop, as
in a normal eviction; \`lab chaos run pod-kill --grace-period 0s\` asks for Chaos Mesh's
default. (Sources: Chaos Mesh's \`api/v1alpha1/podchaos_types.go\`, field
\`GracePeriod\`, and \`controllers/chaosimpl/podchaos/podkill/impl.go\`.)

What each contender runs, with a private \`LAB_STATE_DIR\` and \`KUBECONFIG\`:

- **lab**: \`bin/lab chaos run pod-kill --name <lab> -n bench -l app=bench --count $pods
  --max-pods $pods --max-percent 100 --duration 0 --recovery-timeout 0 --yes\`.
- **kubectl --wait=false**: \`kubectl -n bench delete --wait=false --grace-period=-1
  pod/<name> ...\` with the $pods names listed just before (untimed).
- **kubectl**: the same with \`--wait=true\` (kubectl's default): it returns once they are gone.
- **10 processes**: the same names through \`xargs -P 10\`, $(((pods + 9) / 10)) per waiting \`kubectl delete\`.
- Each run is timed by \`hack/benchup time\` on the monotonic clock. Before each run the
  ReplicaSet has brought $pods Running pods back and none is terminating; after it, the
  script checks that none of the names read before still exists (after a
  \`--wait=false\` run it waits for that, untimed). One warm-up round ran first and was
  discarded ($warmup ms); then $n measured round(s), the first contender rotating each
  round.

The measured rounds, in order:

| round | ran first | lab | kubectl --wait=false | kubectl | 10 kubectl processes |
|---:|---|---:|---:|---:|---:|
$rounds

Machine: $cpus CPUs ($cpu_model), $mem memory, $kernel; load average
$load_before before, $load_after after (other work may share the machine; interleaving
spreads it over the contenders). Versions: Go ${go_version#go}, kube-apiserver
$apiserver_version, kwokctl $kwok_version, kubectl $kubectl_version.
EOF

bench_publish bench-chaos "$section"
