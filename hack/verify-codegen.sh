#!/usr/bin/env bash
# Regenerates all generated code in a copy of the tree and fails if any
# generated file differs from what is checked in.
set -o errexit -o nounset -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "${TMP}"' EXIT
cd "${ROOT}"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "${TMP}" 2>/dev/null || true
(cd "${TMP}" && bash hack/update-codegen.sh >/dev/null)

generated() {
    (cd "$1" && { find pkg staging -name 'zz_generated*.go'; find staging/src/github.com/kfederation/client-go -name '*.go'; echo api/api-rules/violation_exceptions.list; } | LC_ALL=C sort -u)
}
status=0
if ! diff <(generated "${ROOT}") <(generated "${TMP}") >/dev/null; then
    echo "The set of generated files differs; run hack/update-codegen.sh:" >&2
    diff <(generated "${ROOT}") <(generated "${TMP}") >&2 || true
    status=1
fi
while read -r f; do
    if [[ -f "${TMP}/${f}" ]] && ! diff -q "${ROOT}/${f}" "${TMP}/${f}" >/dev/null; then
        echo "${f} is out of date; run hack/update-codegen.sh:" >&2
        diff "${ROOT}/${f}" "${TMP}/${f}" | head -20 >&2 || true
        status=1
    fi
done < <(generated "${ROOT}")
if [[ ${status} -eq 0 ]]; then
    echo "generated code is up to date"
fi
exit ${status}
