# The two commands a newcomer needs are `make run` and `make test`.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -o errexit -o nounset -o pipefail -c
.DEFAULT_GOAL := help

BIN := _output/bin
GO_TEST_FLAGS ?=
# Packages that start real servers; they run one package at a time so that
# two packages' clusters do not fight over the two cores.
E2E_PKGS := ./test/...
UNIT_PKGS = $(shell go list ./... | grep -v /test/)

.PHONY: help
help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: build
build: ## Build federation-apiserver, federation-controller-manager and kubefed into _output/bin.
	go build -o $(BIN)/ ./cmd/...

.PHONY: test-binaries
test-binaries: ## Build etcd, kube-apiserver & co., kubectl, kwok, Helm and CoreDNS from pinned modules.
	hack/install-test-binaries.sh

.PHONY: run
run: build test-binaries ## Start a local federation of three real member clusters.
	go run ./hack/local-up

.PHONY: test
test: verify test-unit test-e2e ## Run every check and test (what CI runs).

.PHONY: test-unit
test-unit: ## Unit tests (no servers).
	go test $(GO_TEST_FLAGS) $(UNIT_PKGS)
	# The CoreDNS federation plugin is a module of its own.
	cd plugins/coredns && go test $(GO_TEST_FLAGS) ./...

.PHONY: test-e2e
test-e2e: build test-binaries ## Integration and e2e tests on real servers.
	# -count=1: these tests run the binaries just built, which go test's
	# cache does not know about, so a cached pass may be for older ones.
	go test -p 1 -count=1 -timeout 45m $(GO_TEST_FLAGS) $(E2E_PKGS)

.PHONY: verify
verify: ## Run every hack/verify-*.sh.
	@for s in hack/verify-*.sh; do echo "== $$s"; bash $$s; done

.PHONY: update
update: ## Regenerate generated code and format.
	hack/update-codegen.sh
	hack/update-gofmt.sh

.PHONY: bench
bench: build test-binaries ## Benchmarks against a real reference, printed as a table.
	# -p 1: one benchmark at a time, or they would share the processors
	# and skew each other's figures.
	go test -p 1 -run '^$$' -bench . -benchtime 1x -timeout 60m ./test/bench/...

SOAK_DURATION ?= 10m
.PHONY: soak
soak: build test-binaries ## Chaos soak of an HA federation with faults and invariants (SOAK_DURATION=10m); not in CI.
	go test -v -count=1 -timeout 0 -run '^TestSoak$$' ./test/soak/ -soak.duration=$(SOAK_DURATION)

.PHONY: clean
clean: ## Remove _output.
	rm -rf _output
