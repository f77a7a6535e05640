#!/usr/bin/env bash
# `make fuzz`: builds the SharpFuzz harness (fuzz/AdmissionGate.Fuzz), instruments the gate assembly for AFL++,
# runs every target (or FUZZ_TARGETS, comma-separated) for FUZZ_SECONDS each from its seed corpus in fuzz/corpus,
# and prints one table row per target. Exits non-zero when any target found a crash or a hang; the findings stay
# in artifacts/fuzz/<target>/default/{crashes,hangs}.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt-require.sh
apt_require afl-fuzz:afl++

seconds=${FUZZ_SECONDS:-60}
timeout_ms=${FUZZ_TIMEOUT_MS:-5000}
out=artifacts/fuzz
bin=fuzz/AdmissionGate.Fuzz/bin/Release/net10.0

dotnet tool restore >/dev/null
# The instrumented copy is newer than the build output, so remove it or the build would not copy a fresh one.
rm -f "$bin/admission-gate.dll"
dotnet build fuzz/AdmissionGate.Fuzz -c Release -v q -nologo
# Coverage feedback comes from the gate's own assembly only (the harness and the BCL are not instrumented).
dotnet sharpfuzz "$bin/admission-gate.dll" >/dev/null

targets=${FUZZ_TARGETS:-$(dotnet "$bin/AdmissionGate.Fuzz.dll" list | paste -sd,)}
# AFL_SKIP_BIN_CHECK: the traced code is the instrumented .NET assembly, not the `dotnet` host afl-fuzz would inspect.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
# Bounded memory: each .NET child may use at most 512 MB of GC heap (afl's -m cannot limit a .NET process).
export DOTNET_GCHeapHardLimit=${FUZZ_HEAP_LIMIT:-0x20000000}

rows=()
bad=0
IFS=, read -ra list <<<"$targets"
for target in "${list[@]}"; do
  rm -rf "$out/$target"
  mkdir -p "$out/$target"
  afl-fuzz -i "fuzz/corpus/$target" -o "$out/$target" -V "$seconds" -m none -t "$timeout_ms" -- \
    dotnet "$bin/AdmissionGate.Fuzz.dll" "$target" >"$out/$target.log" 2>&1 || true
  stats="$out/$target/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    echo "fuzz: $target did not start; see $out/$target.log" >&2
    tail -20 "$out/$target.log" >&2
    rows+=("$(printf '%-18s %10s %8s %6s %8s %6s' "$target" - - - ERROR -)")
    bad=$((bad + 1))
    continue
  fi
  stat() { sed -n "s/^$1 *: *//p" "$stats"; }
  execs=$(stat execs_done)
  runtime=$(($(stat last_update) - $(stat start_time)))
  [ "$runtime" -gt 0 ] || runtime=1
  crashes=$(stat saved_crashes)
  hangs=$(stat saved_hangs)
  rows+=("$(printf '%-18s %10s %8s %6s %8s %6s' "$target" "$execs" "$((execs / runtime))" "$(stat corpus_count)" "$crashes" "$hangs")")
  [ "$crashes" -eq 0 ] && [ "$hangs" -eq 0 ] || bad=$((bad + 1))
done

printf '%-18s %10s %8s %6s %8s %6s\n' target execs execs/s paths crashes hangs
printf '%s\n' "${rows[@]}"
echo "fuzz: ${#list[@]} targets x ${seconds}s, $bad with findings or errors (inputs under $out/<target>/default/)"
[ "$bad" -eq 0 ]
