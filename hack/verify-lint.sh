#!/usr/bin/env bash
# Runs golangci-lint (version pinned in hack/tools/lint/go.mod, settings in
# .golangci.yml) over the repository's main module.
set -o errexit -o nounset -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
LINT=$(hack/install-tools.sh golangci-lint)
"${LINT}" run ./...
