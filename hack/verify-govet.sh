#!/usr/bin/env bash
# go vet over every module of the repository.
set -o errexit -o nounset -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
go vet ./...
(cd staging/src/github.com/kfederation/api && go vet ./...)
(cd staging/src/github.com/kfederation/client-go && go vet ./...)
(cd plugins/coredns && go vet ./...)
