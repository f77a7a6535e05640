'use strict';
// The trusted_root.json that matches a @sigstore/mock instance (Fulcio CA, Rekor, CT log, optionally a TSA), in
// the shape of the Sigstore TrustedRoot message, so verifiers trust exactly the mock's keys.
const crypto = require('crypto');

const b64 = (buf) => Buffer.from(buf.buffer ? Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength) : buf).toString('base64');

function mockTrustedRoot({ urls, tlog, ca, ctlog, ctlogUrl, tsa }) {
  // Valid from two days back, so certificates the mock issues "now" fall inside every validity window.
  const start = new Date(Date.now() - 2 * 24 * 3600 * 1000).toISOString();
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{
      baseUrl: urls.rekor,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: b64(tlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
      logId: { keyId: crypto.createHash('sha256').update(tlog.publicKey).digest('base64') },
    }],
    certificateAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
      uri: urls.fulcio,
      certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
      validFor: { start },
    }],
    ctlogs: [{
      baseUrl: ctlogUrl,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: b64(ctlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
      logId: { keyId: b64(ctlog.logID) },
    }],
    timestampAuthorities: tsa ? [{
      subject: { organization: 'sigstore.mock', commonName: 'sigstore-tsa' },
      uri: urls.tsa,
      certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] },
      validFor: { start },
    }] : [],
  };
}

module.exports = { mockTrustedRoot, b64 };
