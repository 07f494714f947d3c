#!/usr/bin/env bash
# Makes a Docker engine answer on this machine, for the kind test suite and `make up`:
# installs Debian's docker.io when dockerd is missing, registers hack/kind/runc-capfilter
# as the default runtime when this machine's capability bounding set cannot grant what
# privileged containers ask for (kind's nodes are privileged), and starts dockerd in the
# background when `docker info` does not answer. Idempotent; needs root for the install.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
state="${XDG_CACHE_HOME:-$HOME/.cache}/lab/docker"
wrapper=/usr/local/libexec/lab/runc-capfilter
log() { printf 'docker: %s\n' "$*" >&2; }

install_engine() {
  command -v dockerd >/dev/null && command -v jq >/dev/null && return 0
  log "installing docker.io and jq (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io jq iptables >/dev/null
}

# bounding_set_complete: every capability up to CAP_CHECKPOINT_RESTORE (bit 40) is there.
bounding_set_complete() {
  local bnd
  bnd=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
  (((bnd & 0x1ffffffffff) == 0x1ffffffffff))
}

configure_runtime() {
  bounding_set_complete && return 1
  install -D -m 0755 "$here/runc-capfilter" "$wrapper"
  local cfg=/etc/docker/daemon.json cur
  mkdir -p /etc/docker
  cur="$(cat "$cfg" 2>/dev/null || echo '{}')"
  local want
  want="$(jq --arg p "$wrapper" '.runtimes["lab-capfilter"] = {path: $p} | .["default-runtime"] = "lab-capfilter"' <<<"$cur")"
  if [[ "$want" != "$cur" ]]; then
    log "this machine cannot grant every capability (CapBnd): privileged containers run through $wrapper"
    printf '%s\n' "$want" >"$cfg"
    return 0
  fi
  return 1
}

start_engine() {
  mkdir -p "$state"
  log "starting dockerd (log: $state/dockerd.log)"
  setsid nohup dockerd >"$state/dockerd.log" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 60; i++)); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  log "dockerd did not answer within 60s; its log:"
  tail -n 30 "$state/dockerd.log" >&2
  return 1
}

main() {
  install_engine
  local changed=0
  configure_runtime && changed=1
  if docker info >/dev/null 2>&1; then
    if ((changed)); then
      log "reloading dockerd's configuration"
      pkill -HUP -x dockerd || true
      sleep 1
    fi
  else
    start_engine
  fi
  docker info --format 'docker: engine {{.ServerVersion}}, {{.Driver}}, cgroup v{{.CgroupVersion}}, default runtime {{.DefaultRuntime}}' >&2
}

main "$@"
