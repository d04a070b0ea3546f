#!/usr/bin/env bash
# Installs a pinned developer tool into _output/tools and prints its path.
# Versions are pinned in hack/tools/go.mod.
set -o errexit -o nounset -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="${ROOT}/_output/tools"
mkdir -p "${OUT}"
# Each tool is pinned by the go.mod of its module directory.
case "$1" in
    goimports) pkg=golang.org/x/tools/cmd/goimports; moddir="${ROOT}/hack/tools" ;;
    golangci-lint) pkg=github.com/golangci/golangci-lint/v2/cmd/golangci-lint; moddir="${ROOT}/hack/tools/lint" ;;
    *) echo "install-tools: unknown tool $1" >&2; exit 2 ;;
esac
version=$(cd "${moddir}" && go list -m -f '{{.Version}}' "$(cd "${moddir}" && go list -f '{{.Module.Path}}' "${pkg}")")
stamp="${OUT}/.$1-${version}"
if [[ ! -x "${OUT}/$1" || ! -f "${stamp}" ]]; then
    (cd "${moddir}" && GOBIN="${OUT}" go install "${pkg}") >&2
    rm -f "${OUT}/.$1-"*
    touch "${stamp}"
fi
echo "${OUT}/$1"
