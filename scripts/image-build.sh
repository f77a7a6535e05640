#!/usr/bin/env bash
# `make image`: publishes the gate self-contained for linux-x64, builds the image from the Containerfile on BASE
# (IMAGE_BASE, or the Debian-built equivalent of runtime-deps from scripts/image-base.sh), writes it as an OCI layout
# (artifacts/image/oci: the bytes that are signed and pushed, so the digest never changes on the way) and reports
# its digest, size and start-to-ready time in a container run the way the chart runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt-require.sh
# What the image targets need on a fresh Debian machine (runc: crun fails with cgroups in hybrid mode here).
apt_require podman:podman runc:runc skopeo:skopeo mmdebstrap:mmdebstrap curl:curl openssl:openssl python3:python3
source scripts/image-lib.sh
version=$(sed -n 's|.*<Version>\(.*\)</Version>.*|\1|p' Directory.Build.props)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || revision=$revision-dirty
tag=${IMAGE_TAG:-$version}
base=${IMAGE_BASE:-$(scripts/image-base.sh "$IMAGE_DIR")}

# Self-contained: the base has no .NET runtime. DebugType=none and ContinuousIntegrationBuild keep the build
# machine's paths out of the binaries (no PDB path in the PE debug directory, /_/ source paths).
rm -rf "$IMAGE_DIR/publish"
dotnet publish src/AdmissionGate/AdmissionGate.csproj -c Release -r linux-x64 --self-contained true \
  -p:DebugType=none -p:ContinuousIntegrationBuild=true -p:SatelliteResourceLanguages=en \
  -o "$IMAGE_DIR/publish" -v q -nologo

pm build --quiet --pull=never -f Containerfile --build-arg BASE="$base" --build-arg VERSION="$version" \
  --build-arg REVISION="$revision" ${IMAGE_LABEL:+--label "$IMAGE_LABEL"} -t "$IMAGE_NAME:$tag" "$IMAGE_DIR/publish" >/dev/null
rm -rf "$IMAGE_DIR/oci"
pm push --quiet "$IMAGE_NAME:$tag" "oci:$IMAGE_DIR/oci:$tag"
digest=$(layout_digest "$IMAGE_DIR/oci")
echo "$IMAGE_NAME:$tag@$digest" >"$IMAGE_DIR/image.ref"

# Ready time: the container as the chart runs it (read-only, UID 65532, no capabilities, certificate mounted).
work=$(mktemp -d)
container=admission-gate-ready-$$
trap 'pm rm -f -t 0 "$container" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
make_cert "$work/tls"
port=$(free_port)
pm create --name "$container" "${RUN_FLAGS[@]}" -v "$work/tls:/etc/admission-gate/tls:ro" "$IMAGE_NAME:$tag" \
  --listen="127.0.0.1:$port" --tls-cert=/etc/admission-gate/tls/tls.crt --tls-key=/etc/admission-gate/tls/tls.key >/dev/null
ready=$(ready_ms "$container" "$port" "$work/tls/tls.crt")

size=$(pm image inspect --format '{{.Size}}' "$IMAGE_NAME:$tag")
compressed=$(python3 -c 'import json,sys; d=sys.argv[1]; i=json.load(open(d+"/index.json"))["manifests"][0]["digest"].split(":")[1]; m=json.load(open(d+"/blobs/sha256/"+i)); print(sum(l["size"] for l in m["layers"])+m["config"]["size"])' "$IMAGE_DIR/oci")
echo "image: $IMAGE_NAME:$tag"
echo "digest: $digest"
echo "size: $((size / 1000000)) MB unpacked, $((compressed / 1000000)) MB compressed (base: $base)"
echo "ready: ${ready} ms from podman start to the first /readyz 200"
