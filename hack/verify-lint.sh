#!/usr/bin/env bash
# Runs golangci-lint (version pinned in hack/tools/lint/go.mod, settings in
# .golangci.yml) over the repository's main module and the CoreDNS plugin's
# module, plugins/coredns.
set -o errexit -o nounset -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
LINT=$(hack/install-tools.sh golangci-lint)
"${LINT}" run ./...
(cd plugins/coredns && "${LINT}" run --config "${ROOT}/.golangci.yml" ./...)
