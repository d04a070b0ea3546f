#!/usr/bin/env bash
# Fails when a Go file is not formatted as hack/update-gofmt.sh formats it.
set -o errexit -o nounset -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
GOIMPORTS=$(hack/install-tools.sh goimports)
bad=$(git ls-files -z --cached --others --exclude-standard -- '*.go' | xargs -0 grep -L -Z '^// Code generated .* DO NOT EDIT\.$' | xargs -0 "${GOIMPORTS}" -local github.com/kfederation -l)
if [[ -n "${bad}" ]]; then
    echo "These files are not formatted; run hack/update-gofmt.sh:" >&2
    echo "${bad}" >&2
    exit 1
fi
