#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine; a no-op when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
command -v docker-registry >/dev/null 2>&1 || apt_packages+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || apt_packages+=(apache2-utils)
# kubectl validates the kubeconfigs the Kubernetes tests generate (Debian ships it as kubernetes-client).
command -v kubectl >/dev/null 2>&1 || apt_packages+=(kubernetes-client)
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "installing Debian packages: ${apt_packages[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

# promtool (Debian package "prometheus") lints the /metrics exposition in the Metrics tests. Only the binary is
# needed: skip recommends, and on systemd hosts stop/disable the Prometheus server the package would start.
if ! command -v promtool >/dev/null 2>&1; then
  echo "installing Debian package: prometheus (for promtool)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if [ -d /run/systemd/system ]; then
    $sudo_cmd systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi

for dir in tests/js; do
  if [ -f "$dir/package.json" ] && [ ! -d "$dir/node_modules" -o "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "installing npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
