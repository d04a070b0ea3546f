#!/usr/bin/env bash
# Formats every hand-written Go file (generated files are the generators' business) with gofmt and goimports (local prefix github.com/kfederation).
set -o errexit -o nounset -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
GOIMPORTS=$(hack/install-tools.sh goimports)
git ls-files -z --cached --others --exclude-standard -- '*.go' | xargs -0 grep -L -Z '^// Code generated .* DO NOT EDIT\.$' | xargs -0 "${GOIMPORTS}" -local github.com/kfederation -w
