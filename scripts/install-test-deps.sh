#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine; a no-op when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt-require.sh

# kubectl validates the kubeconfigs the Kubernetes tests generate (Debian ships it as kubernetes-client).
apt_require docker-registry:docker-registry htpasswd:apache2-utils kubectl:kubernetes-client

# promtool (Debian package "prometheus") lints the /metrics exposition in the Metrics tests. Only the binary is
# needed: skip recommends, and on systemd hosts stop/disable the Prometheus server the package would start.
if ! command -v promtool >/dev/null 2>&1; then
  APT_OPTIONS=--no-install-recommends apt_require promtool:prometheus
  if [ -d /run/systemd/system ]; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi

for dir in tests/js; do
  if [ -f "$dir/package.json" ] && [ ! -d "$dir/node_modules" -o "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "installing npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
