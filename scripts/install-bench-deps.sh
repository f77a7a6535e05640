#!/usr/bin/env bash
# Installs what `make bench` needs on a fresh Debian machine; a no-op when everything is present.
set -euo pipefail

apt_packages=()
# The local registry holding the signed benchmark images.
command -v docker-registry >/dev/null 2>&1 || apt_packages+=(docker-registry)
# h2load cross-checks the in-repo load generator.
command -v h2load >/dev/null 2>&1 || apt_packages+=(nghttp2-client)
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "installing Debian packages: ${apt_packages[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi
