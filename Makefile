# Enclave: the two commands a new user needs are `make run` and `make test`.
SWIFT ?= swift
SHELL := /bin/bash
DATA_DIR ?= .enclave
PORT ?= 8000

.PHONY: run build test bench clean token

build:
	$(SWIFT) build --product enclave

## Start a working control plane on http://127.0.0.1:$(PORT) (data in $(DATA_DIR)).
run: build
	$(SWIFT) run --skip-build enclave serve --data-dir $(DATA_DIR) --port $(PORT)

## Build everything once, then run every test (CI runs this through .ci/run).
## The output is kept in .build/test-output.log; on failure the failing tests and their issues are
## repeated at the end, where a truncated CI log still shows them.
test:
	$(SWIFT) build --build-tests
	@set -o pipefail; $(SWIFT) test --skip-build --disable-xctest 2>&1 | tee .build/test-output.log \
	  || { status=$$?; echo; echo "== what failed (from .build/test-output.log) =="; \
	       grep -E '✘|Fatal error' .build/test-output.log | grep -v -E '✘ (Suite|Test run)' | tail -20; exit $$status; }

## Measure the figures recorded in BENCHMARKS.md (release build; needs wrk).
bench:
	Benchmarks/run.sh

## Print an admin token for the local control plane.
token:
	$(SWIFT) run --skip-build enclave token --data-dir $(DATA_DIR) --user admin --name Admin --email admin@localhost --role TREAdmin

clean:
	rm -rf .build
