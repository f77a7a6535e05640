#!/usr/bin/env bash
# `make image-sign`: signs the image `make image` wrote (artifacts/image/oci) with a key, and attests a CycloneDX SBOM
# of the gate's NuGet dependencies (CycloneDX dotnet tool, .config/dotnet-tools.json) as an in-toto statement
# (predicateType https://cyclonedx.org/bom) in a key-signed DSSE bundle. Both are Sigstore bundles
# (tests/js/sign-files.js) that `make image-test` attaches as OCI referrers once the image is in a registry; the
# signature covers the manifest bytes, so it holds wherever those bytes are pushed.
#
# The key: IMAGE_SIGNING_KEY (a PKCS#8 PEM private key, e.g. `cosign.key` decrypted, or from a secret store), else
# one created here once under artifacts/image/signing (git-ignored, mode 0600). Its contents are never printed.
# The transparency-log entry each bundle carries comes from the offline @sigstore/mock Rekor that sign-files.js runs;
# its trusted_root.json is written beside the bundles. A real release signs with cosign and the public Rekor instead
# (docs/operators.md "Verifying the gate's own image").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/image-lib.sh
out=$IMAGE_DIR/signing
mkdir -p "$out"
key=${IMAGE_SIGNING_KEY:-$PWD/$out/cosign.key}
if [ -z "${IMAGE_SIGNING_KEY:-}" ] && [ ! -s "$key" ]; then
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key")
  echo "created signing key $key (mode 0600; keep it out of git)"
fi
[ -r "$key" ] || { echo "image-sign: cannot read the signing key $key" >&2; exit 1; }
openssl pkey -in "$key" -pubout -out "$out/cosign.pub"

ref=$(cat "$IMAGE_DIR/image.ref")
digest=${ref##*@}
cp "$IMAGE_DIR/oci/blobs/sha256/${digest#sha256:}" "$out/manifest.json"

version=$(sed -n 's|.*<Version>\(.*\)</Version>.*|\1|p' Directory.Build.props)
dotnet tool restore >/dev/null
rm -rf "$out/sbom" && mkdir -p "$out/sbom"
dotnet CycloneDX src/AdmissionGate/AdmissionGate.csproj -rt linux-x64 -tfm net10.0 -o "$out/sbom" -fn bom.json -F Json \
  -spv 1.5 -sn admission-gate -sv "$version" >/dev/null
python3 - "$out/sbom/bom.json" "${ref%%@*}" "$digest" "$out/sbom.intoto.json" <<'PY'
import json, sys
bom, name, digest, out = sys.argv[1:]
statement = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": name.rsplit(":", 1)[0], "digest": {"sha256": digest.split(":", 1)[1]}}],
    "predicateType": "https://cyclonedx.org/bom",
    "predicate": json.load(open(bom)),
}
json.dump(statement, open(out, "w"))
PY

rm -f "$out"/*.sigstore.json
node tests/js/sign-files.js "$out" "key:$key=$PWD/$out/manifest.json" "key:$key=$PWD/$out/sbom.intoto.json"
components=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["components"]))' "$out/sbom/bom.json")
echo "$components" >"$out/sbom-components"
echo "signed: $digest (public key $out/cosign.pub)"
echo "sbom: CycloneDX 1.5, $components components, attested (predicateType https://cyclonedx.org/bom)"
