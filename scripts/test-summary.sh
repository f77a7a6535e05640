#!/usr/bin/env bash
# Prints one "N passed, M failed" line from the TRX files of a test run (CI reads that line).
set -euo pipefail
dir=${1:?results directory}
passed=0; failed=0; skipped=0
shopt -s nullglob
for trx in "$dir"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
  n=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0})); skipped=$((skipped + ${n:-0}))
done
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
