#!/usr/bin/env bash
# Builds, without any container registry, everything a real kind lab needs on this
# machine: a kind node image (Kubernetes built from the Go module proxy on a Debian
# bookworm root file system from Debian's packages) and the images of the default lab's
# stacks, rebuilt from source, then packs them with `lab pull --bundle` into the offline
# bundle the kind test suite brings labs up from (`lab up --bundle`).
#
#   bash hack/kind/build.sh [all|docker|base|node|images|bundle]
#
# Everything is cached in $XDG_CACHE_HOME/lab/kind (~/.cache/lab/kind) and in the Docker
# engine's images: a second run rebuilds nothing that is there. The versions are pinned
# below; docs/development.md says why each one.
set -euo pipefail
shopt -s inherit_errexit

repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$repo_root/hack/kind"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/lab/kind"

# Kubernetes v1.34: the newest minor whose kubelet still accepts cgroup v1 without
# failCgroupV1 and supports containerd 1.6 (Debian bookworm's), which this machine has.
NODE_KUBE_VERSION="${NODE_KUBE_VERSION:-v1.34.4}"
NODE_IMAGE="${NODE_IMAGE:-lab.local/kind-node:$NODE_KUBE_VERSION}"
BASE_IMAGE=lab.local/debian-base:bookworm
ETCD_VERSION=v3.6.5
COREDNS_VERSION=v1.12.1
PAUSE_VERSION=3.10.1
kube_bin="$cache/kube-$NODE_KUBE_VERSION/bin"
gobin="$cache/gobin"

log() { printf 'kind-build: %s\n' "$*" >&2; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# base: a minimal Debian bookworm root file system from Debian's mirror, imported as an
# image. Every image built here starts from it (no registry: no FROM debian).
build_base() {
  have_image "$BASE_IMAGE" && return 0
  command -v debootstrap >/dev/null || {
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  local root="$cache/rootfs-bookworm"
  rm -rf "$root"
  log "debootstrap bookworm (minbase) into $root"
  debootstrap --variant=minbase bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$cache/debootstrap.log" 2>&1 ||
    { tail -n 20 "$cache/debootstrap.log" >&2; return 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
  log "imported $BASE_IMAGE"
}

# go_binary NAME MODULE VERSION PACKAGE: a static binary built from the Go module proxy in
# a small module of its own (the dependency's replace directives do not apply there, as
# with `go install`, but a module that has some still builds this way when they are not
# needed), cached under $gobin.
go_binary() {
  local name=$1 module=$2 version=$3 pkg=$4
  [[ -x "$gobin/$name-$version" ]] && return 0
  local mod="$cache/src/$name-$version"
  mkdir -p "$mod" "$gobin"
  log "building $name from $module@$version"
  if [[ ! -f "$mod/go.sum" ]]; then
    rm -f "$mod/go.mod"
    (cd "$mod" && go mod init "labkind/$name" >/dev/null 2>&1 && adopt_replaces "$module" "$version" && go get "$module@$version" >get.log 2>&1) ||
      { cat "$mod/get.log" >&2; return 1; }
  fi
  (cd "$mod" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w ${LDFLAGS_EXTRA:-}" -o "$gobin/$name-$version.tmp" "$pkg")
  mv "$gobin/$name-$version.tmp" "$gobin/$name-$version"
}

# adopt_replaces MODULE VERSION: copies the module's own replace directives that point
# at other modules (Prometheus swaps klog for a go-kit adapter this way) into the small
# build module in the current folder, as building inside the module's tree would apply.
adopt_replaces() {
  local gomod line
  gomod="$(go mod download -json "$1@$2" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  [[ -f "$gomod" ]] || return 0
  while read -r line; do
    go mod edit -replace "$line"
  done < <(awk '/^replace \(/ {inblk=1; next} inblk && /^\)/ {inblk=0} inblk || /^replace [^(]/ {sub(/^replace /, ""); print}' "$gomod" |
    awk 'NF == 4 && $4 !~ /^\./ {print $1 "=" $3 "@" $4} NF == 5 && $5 !~ /^\./ {print $1 "@" $2 "=" $4 "@" $5}')
}

# project_binary NAME: a command of this repository (hack/kind/images/NAME).
project_binary() {
  local name=$1
  mkdir -p "$gobin"
  (cd "$repo_root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$gobin/$name" "./hack/kind/images/$name")
}

# image REF SOURCE DOCKERFILE [FILE...]: docker build of a generated Dockerfile whose
# context holds the given files; SOURCE becomes the label lab pull --bundle records.
image() {
  local ref=$1 source=$2 dockerfile=$3
  shift 3
  have_image "$ref" && return 0
  local ctx
  ctx="$(mktemp -d "$cache/ctx.XXXXXX")"
  local f
  for f in "$@"; do cp -a "$f" "$ctx/"; done
  {
    printf '%s\n' "$dockerfile"
    printf 'LABEL io.cloudnativelab.lab.source="%s"\n' "$source"
  } >"$ctx/Dockerfile"
  log "image $ref"
  docker build -q -t "$ref" "$ctx" >/dev/null
  rm -rf "$ctx"
}

# static_image REF SOURCE BINARY ENTRYPOINT-JSON: a static binary on an empty image.
static_image() {
  local ref=$1 source=$2 binary=$3 entry=$4 name
  name="$(basename "$entry" | tr -d '"[]')"
  cp "$binary" "$cache/$name"
  image "$ref" "$source" "FROM scratch
COPY $name /usr/local/bin/$name
ENV PATH=/usr/local/bin
ENTRYPOINT $entry" "$cache/$name"
  rm -f "$cache/$name"
}

# debian_image REF SOURCE PACKAGES [FILE DEST]...: Debian packages on the base image.
debian_image() {
  local ref=$1 source=$2 packages=$3
  shift 3
  local copies="" files=()
  while (($#)); do
    copies+="COPY $(basename "$1") $2"$'\n'
    files+=("$1")
    shift 2
  done
  image "$ref" "$source" "FROM $BASE_IMAGE
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages && rm -rf /var/lib/apt/lists/*
$copies${EXTRA:-}" "${files[@]}"
}

etcd_binary() {
  local built
  built="$(ls "${XDG_CACHE_HOME:-$HOME/.cache}"/lab/testenv/*-etcd-$ETCD_VERSION-*/bin/etcd 2>/dev/null | head -n1 || true)"
  if [[ -n "$built" ]]; then
    printf '%s\n' "$built"
    return 0
  fi
  go_binary etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 || return 1
  printf '%s\n' "$gobin/etcd-$ETCD_VERSION"
}

# control_plane_images: every image kubeadm asks for, built from source under the names
# `kubeadm config images list` prints, plus labnet (the pod network). Prints the refs.
control_plane_images() {
  local ref name src="rebuilt from source: k8s.io/kubernetes@$NODE_KUBE_VERSION"
  local sel="$repo_root/hack/kind/node/files/usr/local/bin/select-iptables"
  while read -r ref; do
    name="${ref##*/}"
    name="${name%%:*}"
    case "$name" in
      kube-apiserver | kube-controller-manager | kube-scheduler)
        static_image "$ref" "$src" "$kube_bin/$name" "[\"/usr/local/bin/$name\"]" ;;
      kube-proxy)
        cp "$kube_bin/kube-proxy" "$cache/kube-proxy.bin"
        printf '#!/bin/sh\n# Uses the node'"'"'s iptables backend, then runs kube-proxy.\nselect-iptables\nexec /usr/local/bin/kube-proxy.bin "$@"\n' >"$cache/kube-proxy.sh"
        chmod 755 "$cache/kube-proxy.sh"
        EXTRA="RUN mv /usr/local/bin/kube-proxy.sh /usr/local/bin/kube-proxy" debian_image "$ref" "$src" \
          "iptables conntrack ipset kmod" "$cache/kube-proxy.bin" /usr/local/bin/ "$cache/kube-proxy.sh" /usr/local/bin/ "$sel" /usr/local/bin/
        rm -f "$cache/kube-proxy.bin" "$cache/kube-proxy.sh" ;;
      etcd) static_image "$ref" "rebuilt from source: go.etcd.io/etcd/server/v3@$ETCD_VERSION" "$(etcd_binary)" '["/usr/local/bin/etcd"]' ;;
      coredns)
        go_binary coredns github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns || return 1
        static_image "$ref" "rebuilt from source: github.com/coredns/coredns@$COREDNS_VERSION" "$gobin/coredns-$COREDNS_VERSION" '["/usr/local/bin/coredns"]' ;;
      pause)
        project_binary pause
        static_image "$ref" "built from source: hack/kind/images/pause (lab)" "$gobin/pause" '["/usr/local/bin/pause"]' ;;
      *) log "kubeadm asks for $ref, which this script cannot build"; return 1 ;;
    esac
    printf '%s\n' "$ref"
  done < <("$kube_bin/kubeadm" config images list --kubernetes-version "$NODE_KUBE_VERSION" 2>/dev/null)
  project_binary labnet
  EXTRA='ENTRYPOINT ["/usr/local/bin/labnet"]' debian_image lab.local/labnet:v1 "built from source: hack/kind/images/labnet (lab)" \
    "iproute2 iptables" "$gobin/labnet" /usr/local/bin/ "$sel" /usr/local/bin/
  printf '%s\n' lab.local/labnet:v1
}

# build_node: stage 1 (Dockerfile: packages, contract, binaries), then stage 2: the
# control-plane images imported into the node's containerd and committed, so kind finds
# them and nothing is pulled.
build_node() {
  have_image "$NODE_IMAGE" && return 0
  build_base
  KUBE_VERSION="$NODE_KUBE_VERSION" KUBE_OUT="$kube_bin" bash "$repo_root/hack/testenv.sh" node
  local refs
  refs="$(control_plane_images)"
  local ctx="$cache/node-ctx"
  rm -rf "$ctx"
  mkdir -p "$ctx/bin" "$ctx/files/kind"
  cp -a "$here/node/Dockerfile" "$ctx/"
  cp -a "$here/node/files/." "$ctx/files/"
  printf '%s\n' "$NODE_KUBE_VERSION" >"$ctx/files/kind/version"
  cp "$kube_bin/kubelet" "$kube_bin/kubeadm" "$kube_bin/kubectl" "$ctx/bin/"
  log "node image stage 1"
  docker build -q --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$NODE_IMAGE-stage1" "$ctx" >/dev/null
  rm -rf "$ctx"
  log "node image stage 2: pre-loading $(wc -l <<<"$refs") images"
  local box
  box="$(docker run -d --privileged --entrypoint /bin/sleep "$NODE_IMAGE-stage1" infinity)"
  # shellcheck disable=SC2086
  docker save $refs | docker exec -i "$box" sh -c '
    containerd >/tmp/containerd.log 2>&1 &
    pid=$!
    for i in $(seq 1 60); do ctr version >/dev/null 2>&1 && break; sleep 0.5; done
    ctr -n k8s.io images import --all-platforms --no-unpack --digests - >/dev/null
    ctr -n k8s.io images ls -q
    kill $pid; wait $pid; rm -f /tmp/containerd.log' >&2
  docker commit \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'CMD []' \
    --change "LABEL io.cloudnativelab.lab.kubernetes-version=$NODE_KUBE_VERSION" \
    --change "LABEL io.cloudnativelab.lab.source=\"built from source: Kubernetes $NODE_KUBE_VERSION on Debian bookworm (hack/kind)\"" \
    "$box" "$NODE_IMAGE" >/dev/null
  docker rm -f "$box" >/dev/null
  docker rmi "$NODE_IMAGE-stage1" >/dev/null
  log "built $NODE_IMAGE"
}

# workload_image REF: builds one image a stack names, from source, under that exact
# reference (the charts pull IfNotPresent, so the loaded image is used). Returns 1 for
# an image that cannot be built here.
workload_image() {
  local ref=$1 repo tag
  repo="${ref%:*}"
  tag="${ref##*:}"
  local v="${tag#v}"
  have_image "$ref" && return 0
  case "$repo" in
    quay.io/prometheus/prometheus)
      # Prometheus 2.x is published to the Go module proxy as v0.<minor>.<patch>.
      LDFLAGS_EXTRA="-X github.com/prometheus/common/version.Version=$v" \
        go_binary prometheus github.com/prometheus/prometheus "v0.${v#2.}" github.com/prometheus/prometheus/cmd/prometheus || return 1
      static_image "$ref" "rebuilt from source: github.com/prometheus/prometheus@v0.${v#2.} (release v$v, without the web UI's assets)" \
        "$gobin/prometheus-v0.${v#2.}" '["/usr/local/bin/prometheus"]' ;;
    quay.io/prometheus/alertmanager)
      LDFLAGS_EXTRA="-X github.com/prometheus/common/version.Version=$v" \
        go_binary alertmanager github.com/prometheus/alertmanager "$tag" github.com/prometheus/alertmanager/cmd/alertmanager || return 1
      static_image "$ref" "rebuilt from source: github.com/prometheus/alertmanager@$tag" "$gobin/alertmanager-$tag" '["/usr/local/bin/alertmanager"]' ;;
    quay.io/prometheus/node-exporter)
      LDFLAGS_EXTRA="-X github.com/prometheus/common/version.Version=$v" \
        go_binary node_exporter github.com/prometheus/node_exporter "$tag" github.com/prometheus/node_exporter || return 1
      static_image "$ref" "rebuilt from source: github.com/prometheus/node_exporter@$tag" "$gobin/node_exporter-$tag" '["/usr/local/bin/node_exporter"]' ;;
    registry.k8s.io/kube-state-metrics/kube-state-metrics)
      go_binary kube-state-metrics k8s.io/kube-state-metrics/v2 "$tag" k8s.io/kube-state-metrics/v2 || return 1
      static_image "$ref" "rebuilt from source: k8s.io/kube-state-metrics/v2@$tag" "$gobin/kube-state-metrics-$tag" '["/usr/local/bin/kube-state-metrics"]' ;;
    docker.io/oliver006/redis_exporter)
      # The module proxy refuses redis_exporter's archives ("not available"): Debian's
      # package is the one build reachable here.
      EXTRA=$'RUN ln -s /usr/bin/prometheus-redis-exporter /redis_exporter\nENTRYPOINT ["/usr/bin/prometheus-redis-exporter"]' \
        debian_image "$ref" "Debian bookworm's prometheus-redis-exporter package (1.45), not redis_exporter $tag: the Go module proxy does not serve it" \
        prometheus-redis-exporter ;;
    ghcr.io/stefanprodan/podinfo)
      # podinfo's module has no /v6 suffix, so the proxy serves its release commits as
      # pseudo-versions, and of the 6.9 releases only tag 6.9.2 (e86405a8674e). 6.9.1,
      # the version k8s-basics rolls out from, is that source saying it is 6.9.1: the
      # scenario needs two distinct images, not 6.9.1's few changes.
      local source="github.com/stefanprodan/podinfo@e86405a8674e (tag $tag)"
      case "$tag" in
        6.9.2) ;;
        6.9.1) source="github.com/stefanprodan/podinfo@e86405a8674e (tag 6.9.2; the proxy does not serve 6.9.1), reporting version 6.9.1" ;;
        *) log "no source pin for podinfo $tag"; return 1 ;;
      esac
      local bin=podinfo
      [[ "$tag" == 6.9.2 ]] || bin="podinfo-$tag" # the version is linked in: one binary each
      LDFLAGS_EXTRA="-X github.com/stefanprodan/podinfo/pkg/version.VERSION=$tag" \
        go_binary "$bin" github.com/stefanprodan/podinfo v1.8.1-0.20250910200901-e86405a8674e github.com/stefanprodan/podinfo/cmd/podinfo || return 1
      cp "$gobin/$bin-v1.8.1-0.20250910200901-e86405a8674e" "$cache/podinfo"
      EXTRA=$'WORKDIR /home/app\nCMD ["./podinfo"]' debian_image "$ref" \
        "rebuilt from source: $source, on Debian bookworm with curl" \
        "curl ca-certificates" "$cache/podinfo" /home/app/
      rm -f "$cache/podinfo" ;;
    quay.io/argoproj/argo-rollouts)
      # hack/testenv.sh builds the controller (the delivery tests run it as a process);
      # its go.mod needs the replace lines a tools module copies, so it is built there.
      ROLLOUTS_VERSION="$tag" bash "$repo_root/hack/testenv.sh" rollouts >&2 || return 1
      static_image "$ref" "rebuilt from source: github.com/argoproj/argo-rollouts@$tag (cmd/rollouts-controller)" \
        "$repo_root/.testenv/bin/rollouts-controller" '["/usr/local/bin/rollouts-controller"]' ;;
    docker.io/library/redis)
      debian_image "$ref" "Debian bookworm's redis-server package (7.0), not Redis $tag: Redis is C, and only Debian's build is reachable here" \
        "redis-server redis-tools" ;;
    *) return 1 ;;
  esac
}

# build_images LAB: every image `lab pull` lists for the lab; prints those built.
build_images() {
  local lab=$1 ref skipped=()
  build_base
  make -s -C "$repo_root" build >&2
  while read -r ref _; do
    if workload_image "$ref" >&2; then
      printf '%s\n' "$ref"
    else
      skipped+=("$ref")
    fi
  done < <("$repo_root/bin/lab" pull -f "$lab" 2>/dev/null | awk 'NR > 1')
  ((${#skipped[@]} == 0)) || log "cannot be built here (the test lab leaves them out): ${skipped[*]}"
}

# chaos_images: the images lab's own faults run (cpu-hog and memory-hog: busybox), from
# Debian's static busybox.
chaos_images() {
  local ref
  ref="$(sed -n 's/^const HogImage = "\(.*\)"/\1/p' "$repo_root/internal/chaos/hog.go")"
  [[ "$ref" == */* ]] || ref="docker.io/library/$ref"
  EXTRA='RUN cp /bin/busybox /busybox-static' debian_image "$ref-build" "build stage" busybox-static
  local box
  box="$(docker create "$ref-build" true)"
  docker cp "$box:/bin/busybox" "$cache/busybox"
  docker rm "$box" >/dev/null
  image "$ref" "Debian bookworm's busybox-static package, not busybox ${ref##*:}" 'FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
CMD ["sh"]' "$cache/busybox"
  rm -f "$cache/busybox"
  docker rmi "$ref-build" >/dev/null
  printf '%s\n' "$ref"
}

# scenario_images: the images the bundled scenarios declare (spec.images), which
# `lab pull --bundle` carries beside the stacks'.
scenario_images() {
  local ref
  sed -n 's/^  images: \[\(.*\)\]$/\1/p' "$repo_root"/scenarios/*/scenario.yaml | tr ',' '\n' | tr -d ' ' | sort -u |
    while read -r ref; do
      workload_image "$ref" >&2 || { log "cannot build scenario image $ref"; return 1; }
      printf '%s\n' "$ref"
    done
}

# build_bundle LAB: the offline bundle of LAB in the `lab pull --bundle` format, from
# the images built here (lab finds them in the local Docker and pulls nothing).
build_bundle() {
  local lab=$1 out="$cache/bundle"
  build_node
  build_images "$lab" >/dev/null
  chaos_images >/dev/null
  scenario_images >/dev/null
  log "packing the bundle into $out"
  "$repo_root/bin/lab" pull --bundle "$out" -f "$lab" --node-image "$NODE_IMAGE" >&2
}

main() {
  mkdir -p "$cache"
  local what="${1:-all}"
  case "$what" in
    docker) bash "$here/docker.sh" ;;
    base) build_base ;;
    node) build_node ;;
    images) build_images "${2:-$here/test-lab.yaml}" ;;
    chaos) chaos_images ;;
    bundle | all) bash "$here/docker.sh"; build_bundle "${2:-$here/test-lab.yaml}" ;;
    *) echo "usage: $0 [all|docker|base|node|images|chaos|bundle] [lab.yaml]" >&2; exit 2 ;;
  esac
}

main "$@"
