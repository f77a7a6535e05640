#!/usr/bin/env bash
# Runs the Sigstore bundle-verification conformance cases (../shared/sigstore-conformance/bundle-verify) against
# `admission-gate sigstore verify-bundle`. Cases ending in _fail must be rejected, every other case must verify.
# Prints one line per disagreeing case and ends with "N passed, M failed"; exits non-zero on any disagreement.
set -uo pipefail
cd "$(dirname "$0")/.."

cases_dir="${CONFORMANCE_DIR:-../shared/sigstore-conformance/bundle-verify}"
[ -d "$cases_dir" ] || cases_dir="/work/shared/sigstore-conformance/bundle-verify"
if [ ! -d "$cases_dir" ]; then
  echo "conformance cases not found (set CONFORMANCE_DIR)" >&2
  exit 2
fi
cases_dir="$(cd "$cases_dir" && pwd)"

# npm deps (public-good trust root ships inside @sigstore/tuf).
if [ ! -d tests/js/node_modules ] || [ tests/js/package-lock.json -nt tests/js/node_modules ]; then
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error) || exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
public_root="$work/public-good-trusted_root.json"
node -e '
  const seeds = require("./tests/js/node_modules/@sigstore/tuf/seeds.json");
  const repo = seeds[Object.keys(seeds)[0]];
  process.stdout.write(Buffer.from(repo.targets["trusted_root.json"], "base64"));
' > "$public_root" || exit 2

dotnet build src/AdmissionGate/AdmissionGate.csproj -c "${CONFIG:-Debug}" -o "$work/bin" --nologo -v quiet >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 2; }
gate="$work/bin/admission-gate"
export ADMISSION_GATE_SIGSTORE_TRUSTED_ROOT="$public_root"

default_identity="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
default_issuer="https://token.actions.githubusercontent.com"
passed=0
failed=0
for dir in "$cases_dir"/*/; do
  name="$(basename "$dir")"
  [ -f "$dir/bundle.sigstore.json" ] || continue
  artifact="$cases_dir/a.txt"
  [ -f "$dir/artifact" ] && artifact="$dir/artifact"
  # Like the conformance suite, pass --trusted-root only for a custom root; otherwise the gate falls back to
  # the public-good root (here the copy extracted above, through its environment variable).
  args=(sigstore verify-bundle --bundle "$dir/bundle.sigstore.json")
  [ -f "$dir/trusted_root.json" ] && args+=(--trusted-root "$dir/trusted_root.json")
  if [ -f "$dir/key.pub" ]; then
    args+=(--key "$dir/key.pub")
  else
    identity="$default_identity"; issuer="$default_issuer"
    [ -f "$dir/identity" ] && identity="$(cat "$dir/identity")"
    [ -f "$dir/issuer" ] && issuer="$(cat "$dir/issuer")"
    args+=(--certificate-identity "$identity" --certificate-oidc-issuer "$issuer")
  fi
  args+=("$artifact")
  output="$(timeout 60 "$gate" "${args[@]}" 2>&1)"
  status=$?
  if [[ "$name" == *_fail ]]; then
    if [ $status -ne 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name: verified but must be rejected"; fi
  else
    if [ $status -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name: rejected (exit $status): $(echo "$output" | tr '\n' ' ')"; fi
  fi
  [ -n "${CONFORMANCE_VERBOSE:-}" ] && echo "  $name -> exit $status: $(echo "$output" | tr '\n' ' ')"
done
echo "sigstore: $passed passed, $failed failed"

# The captured kube-apiserver AdmissionReviews in ../shared/admission-reviews, through the gate's engine.
results="$work/results"
export ADMISSION_GATE_SHARED="$(cd "$cases_dir/../.." && pwd)"
dotnet test AdmissionGate.sln -c "${CONFIG:-Debug}" --filter "Category=Conformance" --logger trx --results-directory "$results" >"$work/test.log" 2>&1
test_status=$?
[ $test_status -eq 0 ] || grep -E "^\s+Failed |Error Message" -A2 "$work/test.log"
summary="$(scripts/test-summary.sh "$results")"
echo "admission-reviews: $summary"
passed=$((passed + $(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$summary")))
failed=$((failed + $(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$summary")))
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $test_status -eq 0 ]
