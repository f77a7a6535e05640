#!/usr/bin/env bash
# Installs what `make bench` needs on a fresh Debian machine; a no-op when everything is present.
set -euo pipefail
source "$(dirname "$0")/apt-require.sh"

# docker-registry holds the signed benchmark images; h2load cross-checks the in-repo load generator.
apt_require docker-registry:docker-registry h2load:nghttp2-client
