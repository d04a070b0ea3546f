#!/usr/bin/env bash
# Formats every Go file with gofmt and goimports (local prefix github.com/kfederation).
set -o errexit -o nounset -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
GOIMPORTS=$(hack/install-tools.sh goimports)
find . -name '*.go' -not -path './_output/*' -print0 | xargs -0 "${GOIMPORTS}" -local github.com/kfederation -w
