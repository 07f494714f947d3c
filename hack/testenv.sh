#!/usr/bin/env bash
# Builds the test environment: a real Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) and kwok/kwokctl, from the Go module proxy only,
# plus Prometheus and promtool from Debian's packages.
#
# Binaries are built once into a per-user cache (outside any clone, so a fresh clone does
# not pay the ~5 minute build again) and linked into $TESTENV_BIN (default .testenv/bin,
# gitignored). Idempotent: a binary already present at the right version is not rebuilt.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.5}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
# The helm CLI is the baseline of the stacks benchmark (hack/bench-stacks.sh) only; lab
# itself installs charts with the Helm SDK and never runs it.
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
# The Argo Rollouts controller, for the delivery stack's tests against the sim control
# plane (run as a process, as it would run in a pod) and for the kind test bundle's
# image. v1.10.0 is the newest release this machine's Go (1.26.8) builds: 1.10.1 and
# later ask for Go 1.26.10.
ROLLOUTS_VERSION="${ROLLOUTS_VERSION:-v1.10.0}"

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/lab/testenv"
cache_bin="$cache_root/kube-$KUBE_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION/bin"
out_bin="${TESTENV_BIN:-$repo_root/.testenv/bin}"

log() { printf 'testenv: %s\n' "$*" >&2; }

build_kube() {
  local names=(${KUBE_BINS:-kube-apiserver kube-controller-manager kube-scheduler} ${KUBE_EXTRA:-}) missing=()
  for n in "${names[@]}"; do [[ -x "$cache_bin/$n" ]] || missing+=("$n"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local mod="$cache_root/src/kube-$KUBE_VERSION"
  mkdir -p "$mod"
  if [[ ! -f "$mod/go.sum" ]]; then
    log "preparing a tools module for k8s.io/kubernetes $KUBE_VERSION"
    local kmod
    kmod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    local staging_version="v0${KUBE_VERSION#v1}"
    {
      echo "module labtestenv/kube"
      echo
      echo "go 1.26"
      echo
      echo "require k8s.io/kubernetes $KUBE_VERSION"
      echo
      echo "replace ("
      # k8s.io/kubernetes points its staging modules at ./staging; outside its tree we
      # pin each of them to the published version that matches the release.
      grep -E '^\s+k8s\.io/[a-z0-9-]+ => \./staging/' "$kmod" |
        awk -v v="$staging_version" '{print "\t" $1 " => " $1 " " v}'
      echo ")"
    } >"$mod/go.mod"
    cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
)
GO
    (cd "$mod" && go mod tidy -e >/dev/null 2>&1 || true)
    (cd "$mod" && go get "k8s.io/kubernetes@$KUBE_VERSION" && go mod tidy)
  fi
  mkdir -p "$cache_bin"
  for n in "${missing[@]}"; do
    log "building $n $KUBE_VERSION (a few minutes on 2 cores)"
    (cd "$mod" && CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${KUBE_VERSION#v1.}" \
      -o "$cache_bin/$n.tmp" "k8s.io/kubernetes/cmd/$n")
    mv "$cache_bin/$n.tmp" "$cache_bin/$n"
  done
}

build_etcd() {
  [[ -x "$cache_bin/etcd" ]] && return 0
  local mod="$cache_root/src/etcd-$ETCD_VERSION"
  mkdir -p "$mod" "$cache_bin"
  log "building etcd $ETCD_VERSION"
  cat >"$mod/main.go" <<'GO'
// etcd's own entry point, built from the module proxy (Debian's etcd is too old for
// kube-apiserver 1.36: it lacks RequestWatchProgress).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  if [[ ! -f "$mod/go.mod" ]]; then
    (cd "$mod" && go mod init labtestenv/etcd >/dev/null 2>&1 && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && go mod tidy)
  fi
  (cd "$mod" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$cache_bin/etcd.tmp" .)
  mv "$cache_bin/etcd.tmp" "$cache_bin/etcd"
}

build_kwok() {
  local n
  for n in kwok kwokctl; do
    [[ -x "$cache_bin/$n" ]] && continue
    log "building $n $KWOK_VERSION"
    mkdir -p "$cache_bin"
    GOBIN="$cache_bin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/$n@$KWOK_VERSION"
  done
}

# build_rollouts builds the controller from the Go module proxy. Its go.mod pins
# k8s.io/kubernetes and replaces every staging module with a version, and a module's
# replace lines apply only inside it, so a tools module copies them.
build_rollouts() {
  local bin="$cache_bin/rollouts-controller"
  [[ -x "$bin" ]] && "$bin" --version 2>/dev/null | grep -q "^${ROLLOUTS_VERSION}$" && return 0
  local mod="$cache_root/src/rollouts-$ROLLOUTS_VERSION" pkg=github.com/argoproj/argo-rollouts
  log "building the Argo Rollouts controller $ROLLOUTS_VERSION (about 7 minutes the first time)"
  mkdir -p "$mod" "$cache_bin"
  if [[ ! -f "$mod/go.sum" ]]; then
    local upstream
    upstream="$(cd "$mod" && GOFLAGS=-mod=mod go mod download -json "$pkg@$ROLLOUTS_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
    {
      printf 'module labtestenv/rollouts\n\ngo 1.26\n\nrequire %s %s\n\n' "$pkg" "$ROLLOUTS_VERSION"
      awk '/^replace \(/{f=1} f{print} f&&/^\)/{f=0; next} !f&&/^replace /{print}' "$upstream"
    } >"$mod/go.mod"
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s/cmd/rollouts-controller"\n' "$pkg" >"$mod/tools.go"
    (cd "$mod" && go mod tidy)
  fi
  (cd "$mod" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X $pkg/utils/version.version=${ROLLOUTS_VERSION#v} -X $pkg/utils/version.gitTag=$ROLLOUTS_VERSION -X $pkg/utils/version.gitCommit=release -X $pkg/utils/version.gitTreeState=clean" \
    -o "$bin.tmp" "$pkg/cmd/rollouts-controller")
  mv "$bin.tmp" "$bin"
}

build_helm() {
  [[ -x "$cache_bin/helm" ]] && "$cache_bin/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION" && return 0
  log "building helm $HELM_VERSION (for the stacks benchmark's baseline)"
  mkdir -p "$cache_bin"
  GOBIN="$cache_bin" CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

# Tools the tests drive as a trainee would: tmux (the scenario transcript) from Debian,
# and kubectl, built from the same Kubernetes release when the machine has none.
install_tools() {
  if ! command -v tmux >/dev/null; then
    log "installing tmux (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends tmux >/dev/null
  fi
  if ! command -v kubectl >/dev/null && [[ ! -x "$cache_bin/kubectl" ]]; then
    KUBE_EXTRA=kubectl build_kube
  fi
}

install_prometheus() {
  if command -v prometheus >/dev/null && command -v promtool >/dev/null && command -v prometheus-alertmanager >/dev/null; then
    return 0
  fi
  log "installing prometheus, promtool and alertmanager (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null
  # The packages start system services on some machines; tests run their own.
  local svc
  for svc in prometheus prometheus-alertmanager; do
    (systemctl disable --now "$svc" >/dev/null 2>&1 || service "$svc" stop >/dev/null 2>&1 || true)
  done
}

link_out() {
  mkdir -p "$out_bin"
  local f
  for f in "$cache_bin"/*; do
    ln -f "$f" "$out_bin/$(basename "$f")" 2>/dev/null || cp -f "$f" "$out_bin/"
  done
  printf '%s\n' "$KUBE_VERSION" >"$out_bin/../KUBE_VERSION"
  # lab itself finds the sim binaries here (internal/cluster/sim), wherever it runs from.
  mkdir -p "$(dirname "$cache_root")/sim"
  ln -sfn "$cache_bin" "$(dirname "$cache_root")/sim/bin"
}

main() {
  local what="${1:-all}"
  case "$what" in
    all) build_etcd; build_kwok; build_kube; build_rollouts; install_tools; link_out; install_prometheus ;;
    sim) build_etcd; build_kwok; build_kube; link_out ;;
    helm) build_helm; link_out ;;
    prometheus) install_prometheus ;;
    rollouts) build_rollouts; link_out ;;
    # The kind node's Kubernetes binaries (hack/kind/build.sh): KUBE_VERSION and KUBE_OUT
    # say which release and where; nothing is linked into .testenv.
    node)
      cache_bin="${KUBE_OUT:?KUBE_OUT names the output folder}"
      KUBE_BINS="kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy" build_kube
      return 0 ;;
    *) echo "usage: $0 [all|sim|helm|prometheus|rollouts|node]" >&2; exit 2 ;;
  esac
  log "ready: $out_bin"
}

main "$@"
