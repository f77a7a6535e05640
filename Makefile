# AdmissionGate — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIG ?= Debug
GATE_PROJECT := src/AdmissionGate/AdmissionGate.csproj
RESULTS := artifacts/test-results

.PHONY: run test build deps format format-check clean conformance microbench bench bench-publish startup-time image image-sign image-test fuzz


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

## Load benchmark (bench/README.md): the published gate and a baseline under HTTPS load, a table on stdout and
## bench/results/latest.json. Knobs: BENCH_DURATION, BENCH_WARMUP (seconds per run), BENCH_PROCESS_WARMUP (seconds
## of unmeasured load per fresh server process), BENCH_RUNS (repeat everything, report medians), BENCH_LEVELS,
## BENCH_RATES, BENCH_SCENARIOS, BENCH_SERVER_CPUS / BENCH_LOAD_CPUS (taskset CPU lists, e.g. 1 and 0), BENCH_ARGS.
BENCH_DURATION ?= 5
BENCH_WARMUP ?= 2
BENCH_PROCESS_WARMUP ?= 30
BENCH_RUNS ?= 1
BENCH_LEVELS ?= 1,16,64,256
BENCH_RATES ?= 2000,5000
BENCH_SCENARIOS ?= baseline,allow,signed,cold,mutate,rollout
BENCH_SERVER_CPUS ?=
BENCH_LOAD_CPUS ?=
BENCH_ARGS ?=
BENCH_BIN := bin/Release/net10.0
## The gate runs in the form the image ships: self-contained for linux-x64, trimmed, one composite ReadyToRun image
## (the csproj's publish settings). BENCH_SELF_CONTAINED=false measures the framework-dependent, non-composite,
## untrimmed publish instead. The baseline stays a framework-dependent ReadyToRun Kestrel app. Same publish for
## `make startup-time`.
BENCH_RID ?= linux-x64
BENCH_SELF_CONTAINED ?= true
BENCH_PUBLISH := artifacts/bench
bench-publish:
	rm -rf $(BENCH_PUBLISH)/gate
	$(DOTNET) publish $(GATE_PROJECT) -c Release -r $(BENCH_RID) --self-contained $(BENCH_SELF_CONTAINED) -o $(BENCH_PUBLISH)/gate -v q -nologo
	$(DOTNET) publish bench/AdmissionGate.Baseline/AdmissionGate.Baseline.csproj -c Release -r $(BENCH_RID) --self-contained false \
	  -o $(BENCH_PUBLISH)/baseline -v q -nologo

bench: bench-publish
	@scripts/install-bench-deps.sh
	$(DOTNET) build bench/AdmissionGate.Load/AdmissionGate.Load.csproj -c Release -v q -nologo
	$(if $(BENCH_LOAD_CPUS),taskset -c $(BENCH_LOAD_CPUS)) bench/AdmissionGate.Load/$(BENCH_BIN)/AdmissionGate.Load run \
	  --gate $(BENCH_PUBLISH)/gate/admission-gate \
	  --baseline $(BENCH_PUBLISH)/baseline/AdmissionGate.Baseline \
	  --policy-template bench/policy.template.yaml --output bench/results/latest.json \
	  --duration $(BENCH_DURATION) --warmup $(BENCH_WARMUP) --process-warmup $(BENCH_PROCESS_WARMUP) --runs $(BENCH_RUNS) --levels $(BENCH_LEVELS) --rates $(BENCH_RATES) \
	  --scenarios $(BENCH_SCENARIOS) $(if $(BENCH_SERVER_CPUS),--server-cpus $(BENCH_SERVER_CPUS)) $(BENCH_ARGS)

## Start-up time (issue 7: ready within 1 s): exec -> first 200 from /readyz over HTTPS, gate (default and bench-like
## policy) and baseline, STARTUP_RUNS runs each; medians and the CPU used until ready (scripts/startup-time.sh).
STARTUP_RUNS ?= 7
startup-time: bench-publish
	scripts/startup-time.sh $(STARTUP_RUNS)

## The gate's container image (Containerfile; docs/operators.md "Container image"): publish, build on IMAGE_BASE (default:
## a runtime-deps equivalent built here from Debian packages), write artifacts/image/oci, report digest, size, ready time.
## Users with access to mcr.microsoft.com: make image IMAGE_BASE=mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled
image:
	scripts/image-build.sh

## Sign the image and its CycloneDX SBOM attestation with IMAGE_SIGNING_KEY (default: a key created once under
## artifacts/image/signing; never committed).
image-sign: image deps
	scripts/image-sign.sh

## Run the image: local registry push/pull by digest, read-only unprivileged container, endpoints, SIGTERM under
## load, and the gate's own policy check on its signed image and an unsigned rebuild. Fails when podman cannot run.
image-test: image-sign
	timeout 900 scripts/image-test.sh

## Coverage-guided fuzzing (SharpFuzz + AFL++): every parser target for FUZZ_SECONDS each, a table of execs, paths,
## crashes and hangs; non-zero exit on any finding (scripts/fuzz.sh). FUZZ_TARGETS=policy,yaml-to-json narrows a run.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

format:
	$(DOTNET) format AdmissionGate.sln

format-check:
	$(DOTNET) format AdmissionGate.sln --verify-no-changes

clean:
	rm -rf artifacts .state
	$(DOTNET) clean AdmissionGate.sln
