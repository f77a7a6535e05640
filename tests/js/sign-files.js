#!/usr/bin/env node
// Signs files offline with sigstore-js against @sigstore/mock (Fulcio, Rekor; intercepted by nock) and writes
// one Sigstore bundle per file plus the trusted_root.json of the mock instance. Used by the gate's signature
// tests to sign image manifests and cosign simple-signing payloads. A FILE named *.intoto.json is an in-toto
// statement: it is attested (DSSE envelope) with cosign v2's legacy options (intoto Rekor entry, certificate chain),
// so the bundle's material also fits the legacy cosign .att layout.
//
// A pair `key:KEY.pem=FILE` signs FILE with that private key instead (PKCS#8 PEM; ECDSA and RSA sign SHA-256, Ed25519
// the raw bytes, as cosign does) and logs it in the same mock Rekor: a key-signed bundle with a public-key hint.
// With a key, a FILE named *.intoto.json becomes a key-signed DSSE attestation (what `cosign attest --key` makes).
//
// usage: node sign-files.js OUT_DIR IDENTITY=FILE...   (writes OUT_DIR/trusted_root.json, FILE.sigstore.json)
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const nock = require('nock');
const mock = require('@sigstore/mock');
const sigstore = require('sigstore');
const { DSSEBundleBuilder, MessageSignatureBundleBuilder, RekorWitness } = require('@sigstore/sign');
const { bundleToJSON } = require('@sigstore/bundle');

const ISSUER = 'https://token.actions.example.test';
const keyPair = () => crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const b64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const { mockTrustedRoot } = require('./mock-trust-root');

function identityToken(sub) {
  const now = Math.floor(Date.now() / 1000);
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: ISSUER, sub, aud: 'sigstore', iat: now, exp: now + 600 })}.sig`;
}

function keySigner(keyPath) {
  const privateKey = crypto.createPrivateKey(fs.readFileSync(keyPath));
  const publicKey = crypto.createPublicKey(privateKey).export({ format: 'pem', type: 'spki' });
  const hash = privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  return { sign: async (data) => ({ signature: crypto.sign(hash, data, privateKey), key: { $case: 'publicKey', publicKey, hint: '' } }) };
}

async function signWithKey(keyPath, file, data, rekorBaseURL) {
  const intoto = file.endsWith('.intoto.json');
  // An intoto Rekor entry (with the payload hash), as cosign v2 logs attestations; the gate checks it.
  const witness = new RekorWitness({ rekorBaseURL, ...(intoto ? { entryType: 'intoto' } : {}) });
  const options = { signer: keySigner(keyPath), witnesses: [witness] };
  const [builder, type] = intoto
    ? [new DSSEBundleBuilder(options), 'application/vnd.in-toto+json']
    : [new MessageSignatureBundleBuilder(options), undefined];
  return bundleToJSON(await builder.create({ data, type }));
}

async function main() {
  const [out, ...pairs] = process.argv.slice(2);
  if (!out || pairs.length === 0) {
    console.error('usage: sign-files.js OUT_DIR IDENTITY=FILE...');
    process.exit(2);
  }

  nock.disableNetConnect();
  const urls = { fulcio: 'https://fulcio.gate.mock', rekor: 'https://rekor.gate.mock' };
  const ctlog = await mock.initializeCTLog(keyPair());
  const ca = await mock.initializeCA(keyPair(), ctlog);
  const tlog = await mock.initializeTLog(urls.rekor, keyPair());
  for (const [base, handler] of [[urls.fulcio, mock.fulcioHandler(ca)], [urls.rekor, mock.rekorHandler(tlog)]]) {
    nock(base).post(handler.path).reply(async (_, body) => {
      const { statusCode, response, contentType } = await handler.fn(typeof body === 'string' ? body : JSON.stringify(body));
      return [statusCode, response, { 'Content-Type': contentType || 'text/plain' }];
    }).persist();
  }

  const root = mockTrustedRoot({ urls, tlog, ca, ctlog, ctlogUrl: 'https://ctfe.gate.mock' });
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'trusted_root.json'), JSON.stringify(root));
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const identity = pair.slice(0, eq);
    const file = pair.slice(eq + 1);
    const data = fs.readFileSync(file);
    const options = { fulcioURL: urls.fulcio, rekorURL: urls.rekor, identityToken: identityToken(identity) };
    const bundle = identity.startsWith('key:')
      ? await signWithKey(identity.slice(4), file, data, urls.rekor)
      : file.endsWith('.intoto.json')
        ? await sigstore.attest(data, 'application/vnd.in-toto+json', { ...options, legacyCompatibility: true })
        : await sigstore.sign(data, options);
    fs.writeFileSync(`${file}.sigstore.json`, JSON.stringify(bundle));
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
