# AdmissionGate — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIG ?= Debug
GATE_PROJECT := src/AdmissionGate/AdmissionGate.csproj
RESULTS := artifacts/test-results

.PHONY: run test build deps format format-check clean conformance microbench

## Run the gate locally over HTTPS on 127.0.0.1:8443 with the embedded default policy.
run:
	$(DOTNET) run --project $(GATE_PROJECT) -c $(CONFIG) -- serve --state-dir $(CURDIR)/.state $(ARGS)

build:
	$(DOTNET) build AdmissionGate.sln -c $(CONFIG)

## Install what the tests need (apt + npm), then build and run every test.
test: deps
	@rm -rf $(RESULTS)
	$(DOTNET) build AdmissionGate.sln -c $(CONFIG)
	$(DOTNET) test AdmissionGate.sln -c $(CONFIG) --no-build --filter "Category!=Conformance" --logger "trx" --results-directory $(RESULTS) $(TEST_ARGS); \
	  status=$$?; scripts/test-summary.sh $(RESULTS); exit $$status

## Tests against data in ../shared (Sigstore conformance vectors, captured AdmissionReviews); not part of `make test`.
conformance:
	@scripts/conformance.sh

## Hot-path micro-benchmarks (BenchmarkDotNet, Release; see bench/README.md). MICROBENCH_ARGS="--filter '*Parse*' --job short"
## narrows a run. In-process: building BenchmarkDotNet's per-benchmark project times out on a busy 2-core machine.
MICROBENCH_ARGS ?= --filter '*'
microbench:
	$(DOTNET) run -c Release --project bench/AdmissionGate.Benchmarks -- --inProcess --artifacts artifacts/microbench $(MICROBENCH_ARGS)

deps:
	@scripts/install-test-deps.sh

format:
	$(DOTNET) format AdmissionGate.sln

format-check:
	$(DOTNET) format AdmissionGate.sln --verify-no-changes

clean:
	rm -rf artifacts .state
	$(DOTNET) clean AdmissionGate.sln
