#!/usr/bin/env bash
# Start-up time of the gate and the baseline: from exec to the first 200 from `curl -sk https://.../readyz`,
# several runs each, median and range (the machine is usually shared: trust medians, not single runs), and the
# CPU time the server used until then.
#   scripts/startup-time.sh [RUNS]          (default 7)
# GATE / BASELINE: the executables (default: what `make bench` publishes under artifacts/bench).
# SCENARIOS: any of gate, gate-policy, baseline (default all three). gate-policy serves a policy like
# bench/policy.template.yaml (signatures, registries, grants) instead of the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
GATE=${GATE:-artifacts/bench/gate/admission-gate}
BASELINE=${BASELINE:-artifacts/bench/baseline/AdmissionGate.Baseline}
SCENARIOS=${SCENARIOS:-gate gate-policy baseline}
work=$(mktemp -d)
server=
cleanup() { [[ -n $server ]] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
  -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
openssl ecparam -genkey -name prime256v1 -noout 2>/dev/null | openssl ec -pubout 2>/dev/null >"$work/sign.pub"
# The bench policy without its trusted_root.json (that needs the bench's throwaway Rekor): same shape otherwise.
key=$(awk '{printf "%s\\n", $0}' "$work/sign.pub")
sed -e 's/\${REGISTRY}/127.0.0.1:5999/g' -e "s|\${KEY_PEM}|${key//\\/\\\\}|" -e '/^  trustRoots:/,+1d' \
  -e 's/key: {trustRoot: bench, pem:/key: {pem:/' bench/policy.template.yaml >"$work/policy.yaml"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# One run: prints milliseconds from exec to ready, and CPU milliseconds until ready.
run_once() {
  local port; port=$(free_port)
  local -a cmd
  case $1 in
    gate) cmd=("$GATE" serve --listen "127.0.0.1:$port" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --audit-stdout=false --state-dir "$work/state") ;;
    gate-policy) cmd=("$GATE" serve --listen "127.0.0.1:$port" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --audit-stdout=false --state-dir "$work/state" --policy "$work/policy.yaml") ;;
    baseline) cmd=("$BASELINE" --listen "127.0.0.1:$port" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem") ;;
  esac
  local start; start=$(date +%s%N)
  "${cmd[@]}" >"$work/server.log" 2>&1 &
  server=$!
  local deadline=$((start + 20000000000))
  until [[ $(curl -sk --max-time 2 "https://127.0.0.1:$port/readyz" 2>/dev/null) == ready* ]]; do
    if ! kill -0 "$server" 2>/dev/null || (($(date +%s%N) > deadline)); then
      echo "$1 did not become ready:" >&2; tail -5 "$work/server.log" >&2; exit 1
    fi
    sleep 0.005
  done
  local ready; ready=$(date +%s%N)
  # CPU the server used until ready (user + system, clock ticks): less sensitive to a busy machine than wall time.
  local stat; stat=$(sed 's/.*) //' "/proc/$server/stat")
  local ticks; ticks=$(awk '{print $12 + $13}' <<<"$stat")
  kill "$server"; wait "$server" 2>/dev/null || true; server=
  echo "$(((ready - start) / 1000000)) $((ticks * 1000 / $(getconf CLK_TCK)))"
}

for scenario in $SCENARIOS; do
  run_once "$scenario" >/dev/null # warm the page cache; not counted
  times=() cpus=()
  for ((i = 0; i < RUNS; i++)); do
    read -r wall cpu < <(run_once "$scenario")
    times+=("$wall") cpus+=("$cpu")
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  median=$(sed -n "$(((RUNS + 1) / 2))p" <<<"$sorted")
  cpu_median=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
  printf '%-12s ready median %5d ms (min %5d, max %5d)  cpu median %5d ms  runs: %s\n' "$scenario" "$median" \
    "$(head -1 <<<"$sorted")" "$(tail -1 <<<"$sorted")" "$cpu_median" "${times[*]}"
done
