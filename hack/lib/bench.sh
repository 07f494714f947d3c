# shellcheck shell=bash
# The driver code the benchmark scripts hack/bench-*.sh share. Each script measures lab
# against a baseline, the contenders interleaved round by round, and writes its section
# of docs/benchmarks.md; what it measures and how it reports it stays in the script.
#
# A script sets repo_root (and cds there), handles its own contender mode first (it runs
# itself under the timer as `bench-X.sh __WHO ...`, without sourcing this file, so every
# contender pays the same bare wrapper cost), then sources this file and, in order:
#
#   bench_init NAME RUNS         its name (log prefix, temp dir) and default BENCH_RUNS
#   bench_check ...              its other BENCH_* settings; bench_need its prerequisites
#   cleanup RC                   (it defines) what to stop at exit, before the temp dir goes
#   bench_start; bench_build     temp dir, traps; the Go helpers, benchup among them
#   run_one WHO TAG              (it defines) one timed run, through bench_time
#   record_round I               (it defines) keeps measured round I, from bench_ms
#   bench_measure WHO...         the warm-up and the measured rounds
#   bench_stats; bench_facts; bench_command; its report; bench_publish
#
# Globals set here, for the scripts to use: bench_name, runs, doc, BENCH_TMP, benchup,
# bench_contenders, bench_ms, bench_first, load_before, load_after, n, med, min, max,
# cpus, cpu_model, mem, kernel, go_version, commit, when, command.

# ---------------------------------------------------------------------------------------
# Settings and messages.

# bench_usage MESSAGE: a bad BENCH_* value is a usage error: exit 2, as before anything ran.
bench_usage() {
  echo "$*" >&2
  exit 2
}

# bench_check ENV VALUE PATTERN WHAT: exits 2, with "ENV must be WHAT, not 'VALUE'",
# unless VALUE (the setting ENV, or its default) matches PATTERN.
bench_check() {
  [[ "$2" =~ $3 ]] || bench_usage "$1 must be $4, not '$2'"
}

# bench_init NAME RUNS: the settings every script has: its name (the prefix of its log
# lines and of its temp dir), runs (BENCH_RUNS, measured rounds, default RUNS) and doc
# (BENCH_DOC, default docs/benchmarks.md).
bench_init() {
  bench_name=$1
  runs="${BENCH_RUNS:-$2}"
  bench_check BENCH_RUNS "$runs" '^[1-9][0-9]*$' 'a positive integer'
  doc="${BENCH_DOC:-$repo_root/docs/benchmarks.md}"
}

# log MESSAGE / die MESSAGE: progress on stderr, prefixed with the script's name; die
# exits 1 (a failed run or a missing prerequisite, not a usage error).
log() { printf '%s: %s\n' "$bench_name" "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# bench_need PATH COMMAND: dies unless PATH is executable, telling which command makes it.
bench_need() {
  [[ -x "$1" ]] || die "$1 is missing: run \`$2\` (or \`make bench\`, which does)"
}

# ---------------------------------------------------------------------------------------
# Temp dir, cleanup and helpers.

# bench_start: a private temp dir, exported as BENCH_TMP (the contenders read it), with
# times/ (benchup's timings) and logs/ (every run's output); the traps that clean up on
# exit, Ctrl-C (exit 130) and TERM (exit 143).
bench_start() {
  BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/$bench_name.XXXXXX")"
  export BENCH_TMP
  mkdir -p "$BENCH_TMP/times" "$BENCH_TMP/logs"
  trap bench_on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# bench_on_exit: the EXIT trap. Runs the script's `cleanup RC` (errexit off: it must go
# on past what fails), deletes the temp dir and exits with the status the script had.
bench_on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if declare -F cleanup >/dev/null; then cleanup "$rc"; fi
  rm -rf "$BENCH_TMP"
  exit "$rc"
}

# bench_ours PID: the process is this script's: its command line names the temp dir (the
# clusters run from kwokctl's copies of their binaries under it), which tells them from
# any other process and from a recycled pid. Never the script itself.
bench_ours() {
  local cmdline
  [[ "$1" != "$$" && "$1" != "$BASHPID" ]] || return 1
  cmdline="$({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$BENCH_TMP"* ]]
}

# bench_stray_pids: every process of ours still running, one pid a line.
bench_stray_pids() {
  local p
  for p in /proc/[0-9]*; do
    if bench_ours "${p#/proc/}"; then echo "${p#/proc/}"; fi
  done
}

# bench_build HELPER...: builds hack/HELPER into the temp dir for each; benchup, the
# timer, is one of them, and $benchup is its path.
bench_build() {
  local what="the helpers" h dirs=()
  for h in "$@"; do dirs+=("hack/$h"); done
  if [[ "$*" == benchup ]]; then what="the timer"; fi
  log "building $what ($(bench_join ', ' "${dirs[@]}"))"
  for h in "$@"; do go build -o "$BENCH_TMP/$h" "./hack/$h"; done
  benchup="$BENCH_TMP/benchup"
}

# ---------------------------------------------------------------------------------------
# Measuring.

# bench_times WHO TAG: the file benchup appends WHO's timing to: times/WHO for measured
# runs, times/warmup-WHO for the warm-up, so the warm-up never enters the figures.
bench_times() {
  if [[ "$2" == warmup ]]; then
    echo "$BENCH_TMP/times/warmup-$1"
  else
    echo "$BENCH_TMP/times/$1"
  fi
}

# bench_log WHO TAG: where the output of WHO's run TAG goes.
bench_log() { echo "$BENCH_TMP/logs/$1-$2.log"; }

# bench_time WHO TAG CMD [ARG...]: runs CMD under benchup time (monotonic clock), its
# output to bench_log; fails, timing nothing, when CMD fails.
bench_time() {
  local who=$1 tag=$2
  shift 2
  "$benchup" time "$(bench_times "$who" "$tag")" -- "$@" >"$(bench_log "$who" "$tag")" 2>&1
}

# bench_failed WHO TAG [FILE...]: says that the run failed, shows the end of its output
# (and of FILEs) and exits 1.
bench_failed() {
  local who=$1 tag=$2
  shift 2
  log "the $who run $tag failed; its output:"
  tail -n 30 "$(bench_log "$who" "$tag")" "$@" >&2 2>/dev/null || true
  exit 1
}

declare -gA bench_ms=()

# bench_run WHO TAG: the script's run_one WHO TAG, then its time, kept in bench_ms[WHO]
# and logged.
bench_run() {
  run_one "$1" "$2"
  bench_ms[$1]="$(tail -n 1 "$(bench_times "$1" "$2")")"
  log "$1 $2: ${bench_ms[$1]} ms"
}

# bench_measure WHO...: the contenders (kept in bench_contenders, in this order): one
# warm-up round (every contender once, discarded), then $runs measured rounds of every
# contender once, interleaved so that other load on the machine weighs on all alike: the
# contender that goes first (bench_first) rotates round by round, with two of them
# alternates. After each measured round, the script's record_round I. Notes the load
# average before and after (load_before, load_after).
# shellcheck disable=SC2034 # load_before, load_after: the scripts' reports use them
bench_measure() {
  local i j who k=$# word=round order
  bench_contenders=("$@")
  if ((k == 2)); then word=pair; fi
  load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
  log "warm-up $word (discarded)"
  for who in "${bench_contenders[@]}"; do bench_run "$who" warmup; done
  for ((i = 1; i <= runs; i++)); do
    order=()
    for ((j = 0; j < k; j++)); do order+=("${bench_contenders[$(((i - 1 + j) % k))]}"); done
    bench_first=${order[0]}
    for who in "${order[@]}"; do bench_run "$who" "$i"; done
    record_round "$i"
  done
  load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
}

# bench_starred WHO: WHO's time in the last round, "*" before it if WHO went first.
bench_starred() {
  if [[ "$1" == "$bench_first" ]]; then
    echo "*${bench_ms[$1]}"
  else
    echo "${bench_ms[$1]}"
  fi
}

# ---------------------------------------------------------------------------------------
# Figures.

# bench_stats: for every contender, the median, min and max of its measured runs, in ms,
# in med[WHO], min[WHO], max[WHO]; n, the number of runs.
# shellcheck disable=SC2034 # the scripts' reports use them
bench_stats() {
  local who
  declare -gA med=() min=() max=()
  for who in "${bench_contenders[@]}"; do
    read -r n "med[$who]" "min[$who]" "max[$who]" < <("$benchup" stats "$BENCH_TMP/times/$who")
  done
}

# bench_median FILE: the median of FILE's numbers (whole milliseconds).
bench_median() { "$benchup" stats "$1" | cut -d' ' -f2; }

# bench_step_medians FILE WHO: one row "| WHO: step | median ms |" for each step of FILE
# (lines "step<TAB>ms", one a step and run), in the order they first appear.
bench_step_medians() {
  local file=$1 who=$2 step m
  while IFS= read -r step; do
    awk -F'\t' -v s="$step" '$1 == s { print $2 }' "$file" >"$BENCH_TMP/step"
    m="$(bench_median "$BENCH_TMP/step")" || return
    printf '| %s: %s | %s ms |\n' "$who" "$step" "$m"
  done < <(cut -f1 "$file" | awk '!seen[$0]++')
}

# bench_ratio A B DIGITS: A / B with DIGITS decimals.
bench_ratio() { awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { printf("%." d "f", a / b) }'; }

# bench_warmup_ms: the warm-up round's times, "a / b" in the contenders' order.
bench_warmup_ms() {
  local who times=()
  for who in "${bench_contenders[@]}"; do times+=("$(cat "$BENCH_TMP/times/warmup-$who")"); done
  bench_join ' / ' "${times[@]}"
}

# bench_join SEP ITEM...: the items with SEP between them.
bench_join() {
  local sep=$1 out="" item
  shift
  for item in "$@"; do out+="${out:+$sep}$item"; done
  echo "$out"
}

# bench_plural N WORD: WORD, with an s unless N is 1.
bench_plural() {
  if (($1 > 1)); then echo "${2}s"; else echo "$2"; fi
}

# ---------------------------------------------------------------------------------------
# The report's facts and the doc.

# bench_facts: what every report says of the machine and the tree: cpus, cpu_model, mem,
# kernel, go_version (as `go env GOVERSION` prints it: go1.x.y), commit (marked when the
# tree has uncommitted changes) and when (UTC).
# shellcheck disable=SC2034 # the scripts' reports use them
bench_facts() {
  cpus="$(nproc)"
  cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  mem="$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  kernel="$(uname -sr)"
  go_version="$(go env GOVERSION)"
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  # The report itself is not a change to what was measured: `make bench` runs the
  # scripts one after another, each rewriting its section of the doc.
  [[ -z "$(git status --porcelain -- . ':!docs/benchmarks.md' 2>/dev/null)" ]] || commit+=" (with uncommitted changes)"
  when="$(date -u '+%Y-%m-%d %H:%M UTC')"
}

# bench_command DIRECT ENV...: command, the command line the report says produced it:
# `make bench` under make, else DIRECT; each ENV that is set goes before it (the last
# named first), so that the line reproduces the run.
bench_command() {
  local var
  command="make bench"
  [[ -n "${MAKELEVEL:-}" ]] || command=$1
  shift
  for var in "$@"; do
    [[ -z "${!var:-}" ]] || command="$var=${!var} $command"
  done
}

# bench_version TOOL [PATH]: TOOL's version as the reports print it (PATH, default TOOL on
# PATH, is the binary to ask).
bench_version() {
  local bin="${2:-$1}"
  case "$1" in
  kube-apiserver) "$bin" --version | awk '{ print $2 }' ;;
  etcd) "$bin" --version | awk '/^etcd Version/ { print $3 }' ;;
  kwokctl) "$bin" --version | awk '{ print $3 }' ;;
  kubectl) "$bin" version --client 2>/dev/null | awk '/^Client Version/ { print $3 }' ;;
  helm) "$bin" version --short 2>/dev/null || echo unknown ;;
  prometheus) "$bin" --version 2>&1 | awk 'NR == 1 { print $3 }' ;;
  *) die "bench_version: no rule for $1" ;;
  esac
}

# bench_publish NAME FILE [NAME FILE...]: writes each FILE as the section NAME of $doc
# (between its <!-- NAME:start --> and <!-- NAME:end --> markers), says so, and prints
# the sections.
bench_publish() {
  local names=() files=()
  while (($# >= 2)); do
    "$benchup" splice "$doc" "$1" <"$2"
    names+=("$1") files+=("$2")
    shift 2
  done
  if ((${#names[@]} == 1)); then
    log "wrote the ${names[0]} section of ${doc#"$repo_root"/}"
  else
    log "wrote the $(bench_join ' and ' "${names[@]}") sections of ${doc#"$repo_root"/}"
  fi
  echo
  cat "${files[@]}"
}
