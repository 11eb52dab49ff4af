# Makefile for secondme-bridge. `make` or `make help` lists the targets.

SHELL := bash
.DEFAULT_GOAL := help

GO        ?= go
BINARY    := secondme-bridge
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
IMAGE     ?= secondme-bridge:$(VERSION)
CREATED   ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
REDIS_URL ?= redis://127.0.0.1:6379/0
BENCHTIME ?= 1s
FUZZTIME  ?= 20s
LOAD_N    ?= 200
LOAD_STORE ?= bolt
LOAD_GLOBAL_RATE ?= 0

.PHONY: help build demo run test test-redis bench loadtest loadtest-ci lint fmt tidy-check docker helm-check release-snapshot fuzz ci clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build a static binary into bin/secondme-bridge
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/$(BINARY) ./cmd/secondme-bridge

demo: ## Try the bridge locally: no config, network or credentials (a page on 127.0.0.1)
	$(GO) run ./cmd/secondme-bridge demo

run: ## Run the bridge with ./config.yaml
	$(GO) run ./cmd/secondme-bridge serve --config config.yaml

test: ## Run every test with the race detector (the README's test command)
	$(GO) test -race -count=1 ./...

test-redis: ## Run the store tests against a real redis-server at REDIS_URL and private ones from PATH (never skipped)
	CI=true SECONDME_BRIDGE_TEST_REDIS_URL=$(REDIS_URL) $(GO) test -race -count=1 ./store/...

bench: ## Run the benchmarks, 3 runs each (figures for the README's Performance section)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count 3 ./...

loadtest: build ## Load test of the built binary (LOAD_N, LOAD_STORE bolt|redis, LOAD_GLOBAL_RATE; README Performance)
	$(GO) build -o bin/loadtest ./cmd/loadtest
	bin/loadtest -bin bin/$(BINARY) -n $(LOAD_N) -store $(LOAD_STORE) -global-rate $(LOAD_GLOBAL_RATE) -redis $(REDIS_URL)

loadtest-ci: ## The load test at CI's size: 20 conversations, bolt with a 50/s global limit, then Redis
	$(MAKE) --no-print-directory loadtest LOAD_N=20 LOAD_STORE=bolt LOAD_GLOBAL_RATE=50
	$(MAKE) --no-print-directory loadtest LOAD_N=20 LOAD_STORE=redis LOAD_GLOBAL_RATE=0

lint: ## go vet, gofmt check, and golangci-lint when it is installed
	$(GO) vet ./...
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	@if command -v golangci-lint >/dev/null 2>&1; then golangci-lint run ./...; \
	else echo "golangci-lint not installed: skipped (config in .golangci.yaml)"; fi

fmt: ## Format every Go file
	gofmt -w .

tidy-check: ## Fail if go.mod or go.sum are not tidy (changes nothing)
	$(GO) mod tidy -diff

docker: ## Build the container image IMAGE, also tagged secondme-bridge:local
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg CREATED=$(CREATED) -t $(IMAGE) -t secondme-bridge:local .
	@echo "built $(IMAGE), also tagged secondme-bridge:local"

helm-check: ## helm lint --strict and helm template on the chart (helm is built from deploy/tools/go.mod)
	deploy/helm-check

release-snapshot: ## Build the release archives and checksums locally (needs goreleaser)
	goreleaser release --snapshot --clean --config deploy/goreleaser.yaml

fuzz: ## Run every fuzz target for FUZZTIME each
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u); do \
		for fn in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | sed 's/^func //'); do \
			echo "== $$dir $$fn"; \
			$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done

ci: ## Run what CI runs (.ci/run)
	.ci/run

clean: ## Remove build output
	rm -rf bin
