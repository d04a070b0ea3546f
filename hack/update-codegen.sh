#!/usr/bin/env bash
# Regenerates every generated file: deepcopy, conversion and defaulters of the
# API types, the OpenAPI definitions, and the clientset, listers, informers and
# apply configurations of the staging client-go module. Only generators write
# generated code; hack/verify-codegen.sh checks the tree is up to date.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"

CODEGEN_PKG=$(cd hack/tools && go list -m -f '{{.Dir}}' k8s.io/code-generator)
# shellcheck source=/dev/null
source "${CODEGEN_PKG}/kube_codegen.sh"

BOILERPLATE="${ROOT}/hack/boilerplate.go.txt"
API_DIR=staging/src/github.com/kfederation/api

kube::codegen::gen_helpers --boilerplate "${BOILERPLATE}" "${API_DIR}"
kube::codegen::gen_helpers --boilerplate "${BOILERPLATE}" pkg/apis

kube::codegen::gen_openapi \
    --output-dir pkg/generated/openapi \
    --output-pkg github.com/kfederation/federation/pkg/generated/openapi \
    --output-model-name-file zz_generated.model_name.go \
    --report-filename "${ROOT}/api/api-rules/violation_exceptions.list" \
    --update-report \
    --boilerplate "${BOILERPLATE}" \
    "${API_DIR}"

# The client generators resolve the API directory to a package from the
# current module, so they run inside the client-go module, which requires the
# api module.
(
    cd staging/src/github.com/kfederation/client-go
    kube::codegen::gen_client \
        --with-watch \
        --with-applyconfig \
        --output-dir . \
        --output-pkg github.com/kfederation/client-go \
        --boilerplate "${BOILERPLATE}" \
        ../api
)
