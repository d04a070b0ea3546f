#!/usr/bin/env bash
# Regenerates all generated code in a copy of the tree and fails if it differs
# from what is checked in.
set -o errexit -o nounset -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "${TMP}"' EXIT
cd "${ROOT}"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "${TMP}" 2>/dev/null || true
(cd "${TMP}" && bash hack/update-codegen.sh >/dev/null)
if ! diff -r -q --exclude=_output "${ROOT}/pkg" "${TMP}/pkg" >/dev/null || ! diff -r -q "${ROOT}/staging" "${TMP}/staging" >/dev/null || ! diff -q "${ROOT}/api/api-rules/violation_exceptions.list" "${TMP}/api/api-rules/violation_exceptions.list" >/dev/null; then
    echo "Generated code is out of date; run hack/update-codegen.sh. Differences:" >&2
    diff -r --exclude=_output "${ROOT}/pkg" "${TMP}/pkg" | head -40 >&2 || true
    diff -r "${ROOT}/staging" "${TMP}/staging" | head -40 >&2 || true
    exit 1
fi
echo "generated code is up to date"
