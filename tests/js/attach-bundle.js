#!/usr/bin/env node
// Attaches a Sigstore bundle to an image in a registry with @sigstore/oci, the way sigstore-js tooling publishes
// them: an artifact manifest whose subject is the image, listed through the referrers API or, where the registry
// has none, the referrers tag schema (sha256-<hex> index). Writes the artifact manifest's descriptor as JSON to OUT.
//
// usage: OCI_USERNAME=... OCI_PASSWORD=... node attach-bundle.js HOST[:PORT]/REPOSITORY IMAGE_DIGEST BUNDLE.json OUT.json
// (credentials come from the environment so they never appear in process listings)
'use strict';

const fs = require('fs');
const { attachArtifactToImage } = require('@sigstore/oci');

async function main() {
  const [imageName, imageDigest, bundlePath, out] = process.argv.slice(2);
  if (!imageName || !imageDigest || !bundlePath || !out) {
    console.error('usage: node attach-bundle.js HOST[:PORT]/REPOSITORY IMAGE_DIGEST BUNDLE.json OUT.json');
    process.exit(2);
  }

  const artifact = fs.readFileSync(bundlePath);
  const descriptor = await attachArtifactToImage({
    imageName,
    imageDigest,
    artifact,
    // The bundle's own media type, as sigstore-js publishes it (e.g. application/vnd.dev.sigstore.bundle+json;version=0.2).
    mediaType: JSON.parse(artifact.toString('utf8')).mediaType,
    credentials: { username: process.env.OCI_USERNAME || '', password: process.env.OCI_PASSWORD || '' },
  });
  fs.writeFileSync(out, JSON.stringify(descriptor));
}

main().catch((e) => {
  // OCIError wraps the HTTP failure in `cause`; show both, never the credentials (they are not in either).
  console.error(e && e.stack ? e.stack : e, e && e.cause ? `\ncause: ${e.cause.stack || e.cause}` : '');
  process.exit(1);
});
