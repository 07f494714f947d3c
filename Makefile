# lab's build. `make help` lists the targets. The two that matter on a fresh machine:
#   make up    brings up a lab (kind when Docker answers, the simulated cluster otherwise)
#   make test  builds the test environment when missing and runs every test
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin/lab
PKG       := github.com/cloudnativelab/lab
TESTENV   := $(CURDIR)/.testenv/bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X $(PKG)/internal/app.buildVersion=$(VERSION) -X $(PKG)/internal/app.buildCommit=$(COMMIT)
# Test limits: the whole suite's time, and the short fuzz run of each file parser. The
# fuzz run is a count of inputs (about 7 s each here), not a duration: with a duration,
# Go 1.26's fuzz coordinator can fail a target at the deadline with "context deadline
# exceeded" and no failing input (go.dev/issue/75804, fixed in Go 1.27).
TEST_TIMEOUT ?= 30m
KIND_TIMEOUT ?= 50m
FUZZ_TIME    ?= 100000x
UP_FLAGS     ?=

.PHONY: help build up down test test-kind unit testenv testenv-sim fuzz bench lint docs clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/lab
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/lab

up: build ## bring up the default lab: kind when Docker answers, else simulated (builds the sim binaries when missing)
	@if docker info >/dev/null 2>&1; then \
	  ./$(BIN) up $(UP_FLAGS); \
	else \
	  echo "Docker is not reachable: preparing the simulated cluster's binaries (cached after the first time)"; \
	  bash hack/testenv.sh sim; \
	  LAB_SIM_BIN_DIR=$(TESTENV) ./$(BIN) up $(UP_FLAGS); \
	fi

down: build ## delete the default lab
	LAB_SIM_BIN_DIR=$(TESTENV) ./$(BIN) down $(UP_FLAGS)

testenv: ## build the test environment: control plane, kwok, Prometheus; Docker, the kind node image and the offline test bundle (idempotent, cached)
	bash hack/testenv.sh all
	$(MAKE) --no-print-directory build
	bash hack/kind/build.sh all

testenv-sim: ## build only the simulated cluster's binaries
	bash hack/testenv.sh sim

test: testenv ## run every test: unit, integration against a real control plane, the kind suite, short fuzzing
	LAB_SIM_BIN_DIR=$(TESTENV) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v '/test/kind$$')
	$(MAKE) --no-print-directory test-kind
	$(MAKE) --no-print-directory fuzz

test-kind: ## the real-cluster suite alone: one kind lab from the test bundle (make testenv builds it)
	$(GO) test -count=1 -timeout $(KIND_TIMEOUT) ./test/kind/

fuzz: ## fuzz each file parser for FUZZ_TIME
	$(GO) test -run '^$$' -fuzz '^FuzzLoadLab$$' -fuzztime $(FUZZ_TIME) ./internal/spec/
	$(GO) test -run '^$$' -fuzz '^FuzzLoadChecks$$' -fuzztime $(FUZZ_TIME) ./internal/spec/
	$(GO) test -run '^$$' -fuzz '^FuzzLoadScenario$$' -fuzztime $(FUZZ_TIME) ./internal/spec/

bench: build testenv ## every benchmark, each a ratio against a baseline run side by side; writes docs/benchmarks.md
	bash hack/testenv.sh helm
	LAB_SIM_BIN_DIR=$(TESTENV) bash hack/bench-up.sh
	LAB_SIM_BIN_DIR=$(TESTENV) bash hack/bench-stacks.sh
	LAB_SIM_BIN_DIR=$(TESTENV) bash hack/bench-chaos.sh
	bash hack/bench-grade.sh

lint: ## gofmt, go vet (also with the e2e tag), terraform fmt of the bundled modules
	@out=$$(gofmt -l cmd internal hack labs test charts terraform); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./test/e2e/...
	terraform fmt -check -recursive terraform internal/cluster/terraform/testdata

docs: ## regenerate the CLI reference in docs/cli
	$(GO) run ./hack/gendocs docs/cli

clean: ## remove build output (not the cached test environment)
	rm -rf bin .testenv
