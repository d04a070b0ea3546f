#!/usr/bin/env bash
# Builds the real servers that tests, benchmarks and `make run` start, from
# pinned Go modules, into _output/bin: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kubectl (versions pinned in
# hack/tools/go.mod), kwok (simulated nodes and pods), Helm, CoreDNS, and
# coredns-federation: CoreDNS with this repository's federation plugin, built
# from the nested module plugins/coredns.
# Each binary is keyed by its version with a stamp file, so a second run does
# no work; coredns-federation, whose plugin changes with the repository, is
# always rebuilt (go build is incremental, so that is quick when nothing
# changed). Usage: hack/install-test-binaries.sh [name...] (default: all).
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="${ROOT}/_output/bin"
STAMPS="${BIN}/.stamps"
TOOLS="${ROOT}/hack/tools"
KWOK_VERSION=v0.8.0
COREDNS_VERSION=v1.15.0
HELM_VERSION=v4.3.2

mkdir -p "${BIN}" "${STAMPS}"

fail_download() {
    echo "install-test-binaries: cannot download Go module $1 from the module proxy ($(go env GOPROXY))." >&2
    echo "Check the network or GOPROXY; the output above says what failed." >&2
    exit 1
}

module_version() {
    (cd "${TOOLS}" && go list -m -f '{{.Version}}' "$1")
}

# build NAME VERSION COMMAND...: runs COMMAND unless NAME at VERSION is built.
build() {
    local name=$1 version=$2
    shift 2
    local stamp="${STAMPS}/${name}-${version}"
    if [[ -f "${stamp}" && -x "${BIN}/${name}" ]]; then
        return 0
    fi
    echo "install-test-binaries: building ${name} ${version}" >&2
    rm -f "${STAMPS}/${name}-"*
    "$@"
    touch "${stamp}"
}

build_kube() {
    (cd "${TOOLS}" && go build -o "${BIN}/$1" "k8s.io/kubernetes/cmd/$1")
}

build_etcd() {
    (cd "${TOOLS}" && go build -o "${BIN}/etcd" ./etcd)
}

# go_install MODULE PACKAGE VERSION [GO-INSTALL-FLAG...]
go_install() {
    local module=$1 pkg=$2 version=$3
    shift 3
    GOBIN="${BIN}" GOFLAGS= go install "$@" "${pkg}@${version}" || fail_download "${module}@${version}"
}

# Helm keeps its version in a variable its Makefile sets with -ldflags;
# without it `helm version` would say only v4.3.
build_helm() {
    go_install helm.sh/helm/v4 helm.sh/helm/v4/cmd/helm "${HELM_VERSION}" \
        -ldflags "-X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}"
}

build_kwok() {
    go_install sigs.k8s.io/kwok sigs.k8s.io/kwok/cmd/kwok "${KWOK_VERSION}"
    # kwok needs Stage configs to move simulated nodes and pods along; they
    # ship in its module. Nodes become Ready and keep a lease; pods become
    # Running and Ready, complete, and go away when deleted.
    local dir
    dir=$(GOFLAGS= go mod download -json "sigs.k8s.io/kwok@${KWOK_VERSION}" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
    local stage="${dir}/kustomize/stage"
    {
        cat "${stage}/node/fast/node-initialize.yaml"
        echo "---"
        cat "${stage}/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml"
        echo "---"
        cat "${stage}/pod/fast/pod-ready.yaml"
        echo "---"
        cat "${stage}/pod/fast/pod-complete.yaml"
        echo "---"
        cat "${stage}/pod/fast/pod-delete.yaml"
    } > "${BIN}/kwok-stages.yaml"
}

build_coredns_federation() {
    echo "install-test-binaries: building coredns-federation" >&2
    (cd "${ROOT}/plugins/coredns" && go mod download) || fail_download "the modules of plugins/coredns/go.mod"
    (cd "${ROOT}/plugins/coredns" && go build -o "${BIN}/coredns-federation" ./cmd/coredns-federation)
}

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
    names=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm coredns coredns-federation)
fi

# Fail at once, with a clear message, when the modules cannot be had.
(cd "${TOOLS}" && go mod download) || fail_download "the modules of hack/tools/go.mod"
KUBE_VERSION=$(module_version k8s.io/kubernetes)
ETCD_VERSION=$(module_version go.etcd.io/etcd/server/v3)

for name in "${names[@]}"; do
    case "${name}" in
        etcd) build etcd "${ETCD_VERSION}" build_etcd ;;
        kube-apiserver|kube-controller-manager|kube-scheduler|kubectl) build "${name}" "${KUBE_VERSION}" build_kube "${name}" ;;
        kwok) build kwok "${KWOK_VERSION}" build_kwok ;;
        helm) build helm "${HELM_VERSION}" build_helm ;;
        coredns) build coredns "${COREDNS_VERSION}" go_install github.com/coredns/coredns github.com/coredns/coredns "${COREDNS_VERSION}" ;;
        coredns-federation) build_coredns_federation ;;
        *) echo "install-test-binaries: unknown binary ${name}; known: etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm coredns coredns-federation" >&2; exit 2 ;;
    esac
done
