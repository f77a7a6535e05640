#!/usr/bin/env node
// Produces Sigstore bundles fully offline with @sigstore/mock (mock Fulcio, CT log, Rekor and TSA with real
// keys and certificates, intercepted in-process by nock), a trusted_root.json built from the mock's key
// material, tampered variants, and the verdict of the reference verifier @sigstore/verify for each case.
//
// usage: node mock-bundles.js OUT_DIR
// Writes OUT_DIR/<case>/{bundle.sigstore.json, artifact, trusted_root.json, identity, issuer, expected}
// where `expected` is "pass" or "fail: <reason>" from @sigstore/verify.
'use strict';

const crypto = require('crypto');
const { mockTrustedRoot } = require('./mock-trust-root');
const fs = require('fs');
const path = require('path');
const nock = require('nock');
const mock = require('@sigstore/mock');
const sigstore = require('sigstore');
const { Verifier, toTrustMaterial, toSignedEntity } = require('@sigstore/verify');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

const IDENTITY = 'https://github.com/example/app/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.example.test';
const OTHER_IDENTITY = 'https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main';

const keyPair = () => crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const b64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const spki = (key) => key.export({ format: 'der', type: 'spki' });

// An unsigned JWT is enough: the mock Fulcio only decodes the claims.
function identityToken(sub) {
  const now = Math.floor(Date.now() / 1000);
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: ISSUER, sub, aud: 'sigstore', iat: now, exp: now + 600 })}.sig`;
}

// One complete mock Sigstore instance; `caClock` back-dates every certificate the CA issues.
async function instance(name, caClock) {
  const urls = {
    fulcio: `https://fulcio.${name}.mock`,
    rekor: `https://rekor.${name}.mock`,
    tsa: `https://tsa.${name}.mock`,
  };
  const ctKeys = keyPair();
  const ctlog = await mock.initializeCTLog(ctKeys);
  const ca = await mock.initializeCA(keyPair(), ctlog, caClock);
  const tlogKeys = keyPair();
  const tlog = await mock.initializeTLog(urls.rekor, tlogKeys);
  const tsa = await mock.initializeTSA(keyPair());
  for (const [base, handler] of [
    [urls.fulcio, mock.fulcioHandler(ca)],
    [urls.rekor, canonicalizingRekor(mock.rekorHandler(tlog))],
    [urls.tsa, mock.tsaHandler(tsa)],
  ]) {
    nock(base).post(handler.path).reply(async (_, body) => {
      const { statusCode, response, contentType } = await handler.fn(typeof body === 'string' ? body : JSON.stringify(body));
      return [statusCode, response, { 'Content-Type': contentType || 'text/plain' }];
    }).persist();
  }

  const root = mockTrustedRoot({ urls, tlog, ca, ctlog, tsa, ctlogUrl: `https://ctfe.${name}.mock` });
  return { urls, root };
}

// Real Rekor stores a dsse proposal in canonical form (envelope hash, payload hash, signatures with
// verifiers); the mock logs the raw proposal, which no verifier accepts. Canonicalise it the way Rekor does.
function canonicalizingRekor(handler) {
  const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
  return {
    path: handler.path,
    fn: async (body) => {
      const entry = JSON.parse(body);
      if (entry.kind === 'dsse' && entry.spec && entry.spec.proposedContent) {
        const { envelope, verifiers } = entry.spec.proposedContent;
        const parsed = JSON.parse(envelope);
        entry.spec = {
          envelopeHash: { algorithm: 'sha256', value: sha256(envelope) },
          payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(parsed.payload, 'base64')) },
          signatures: parsed.signatures.map((sig, i) => ({ signature: sig.sig, verifier: verifiers[i] || verifiers[0] })),
        };
      }
      return handler.fn(JSON.stringify(entry));
    },
  };
}

function referenceVerdict(bundleJson, artifact, rootJson, identity, issuer) {
  try {
    const trust = toTrustMaterial(TrustedRoot.fromJSON(rootJson));
    const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
    verifier.verify(toSignedEntity(bundleFromJSON(bundleJson), artifact), {
      subjectAlternativeName: identity,
      extensions: { issuer },
    });
    // @sigstore/verify checks the envelope, not what it attests to; binding the in-toto subject to the
    // artifact is its callers' job (as in the sigstore-js conformance client), so do that here too.
    if (bundleJson.dsseEnvelope) {
      const statement = JSON.parse(Buffer.from(bundleJson.dsseEnvelope.payload, 'base64').toString());
      const digest = crypto.createHash('sha256').update(artifact).digest('hex');
      if (!(statement.subject || []).some((s) => s.digest && s.digest.sha256 === digest)) {
        return 'fail: SUBJECT_MISMATCH: no in-toto subject matches the artifact digest';
      }
    }
    return 'pass';
  } catch (e) {
    return `fail: ${(e && (e.code || e.name)) || 'error'}: ${(e && e.message) || e}`.replace(/\s+/g, ' ');
  }
}

function flipBase64Byte(value, index) {
  const bytes = Buffer.from(value, 'base64');
  bytes[index % bytes.length] ^= 0x01;
  return bytes.toString('base64');
}

async function main() {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: mock-bundles.js OUT_DIR');
    process.exit(2);
  }

  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');

  const good = await instance('good');
  const foreign = await instance('foreign');
  const stale = await instance('stale', new Date(Date.now() - 3600 * 1000));

  const artifact = Buffer.from(`admission-gate mock artifact ${crypto.randomUUID()}\n`);
  const otherArtifact = Buffer.from('a different artifact\n');
  const statement = (data) => Buffer.from(JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'artifact', digest: { sha256: crypto.createHash('sha256').update(data).digest('hex') } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { buildDefinition: { buildType: 'https://example.test/build' } },
  }));
  const opts = (inst, extra = {}) => ({
    fulcioURL: inst.urls.fulcio,
    rekorURL: inst.urls.rekor,
    identityToken: identityToken(extra.sub || IDENTITY),
    ...(extra.tsa ? { tsaServerURL: inst.urls.tsa } : {}),
  });

  const signed = await sigstore.sign(artifact, opts(good));
  // @sigstore/core reads a GeneralizedTime only with exactly three fractional digits, while DER drops trailing
  // zeros (".12Z"), so about one timestamp in ten is unreadable to the reference verifier though valid. Re-sign
  // until the reference can read it, so its verdict is about the bundle and not about its time parser.
  let signedTsa;
  for (let attempt = 0; attempt < 20; attempt++) {
    signedTsa = await sigstore.sign(artifact, opts(good, { tsa: true }));
    const verdict = referenceVerdict(signedTsa, artifact, good.root, IDENTITY, ISSUER);
    if (!verdict.includes('invalid time')) {
      break;
    }
  }
  const attested = await sigstore.attest(statement(artifact), 'application/vnd.in-toto+json', opts(good));
  const staleSigned = await sigstore.sign(artifact, opts(stale));

  const clone = (v) => JSON.parse(JSON.stringify(v));
  const cases = [];
  const add = (name, bundle, inst, extra = {}) => cases.push({
    name,
    bundle,
    artifact: extra.artifact || artifact,
    root: (extra.rootOf || inst).root,
    identity: extra.identity || IDENTITY,
    issuer: extra.issuer || ISSUER,
  });

  add('message-signature', signed, good);
  add('message-signature-with-tsa', signedTsa, good);
  add('dsse-attestation', attested, good);

  const badSig = clone(signed);
  badSig.messageSignature.signature = flipBase64Byte(badSig.messageSignature.signature, 10);
  add('flipped-signature', badSig, good);

  const badDsse = clone(attested);
  badDsse.dsseEnvelope.signatures[0].sig = flipBase64Byte(badDsse.dsseEnvelope.signatures[0].sig, 12);
  add('flipped-dsse-signature', badDsse, good);

  const badDigest = clone(signed);
  badDigest.messageSignature.messageDigest.digest = flipBase64Byte(badDigest.messageSignature.messageDigest.digest, 3);
  add('wrong-message-digest', badDigest, good);

  add('wrong-artifact', signed, good, { artifact: otherArtifact });
  add('wrong-artifact-dsse', attested, good, { artifact: otherArtifact });
  add('wrong-identity', signed, good, { identity: OTHER_IDENTITY });
  add('wrong-issuer', signed, good, { issuer: 'https://accounts.example.test' });
  add('expired-certificate', staleSigned, stale);
  add('foreign-trust-root', signed, good, { rootOf: foreign });

  const badSet = clone(signed);
  const entry = badSet.verificationMaterial.tlogEntries[0];
  if (entry.inclusionPromise) {
    entry.inclusionPromise.signedEntryTimestamp = flipBase64Byte(entry.inclusionPromise.signedEntryTimestamp, 20);
  }
  add('flipped-set', badSet, good);

  const badTime = clone(signed);
  badTime.verificationMaterial.tlogEntries[0].integratedTime = String(Number(badTime.verificationMaterial.tlogEntries[0].integratedTime) + 1);
  add('altered-integrated-time', badTime, good);

  const badCheckpoint = clone(signed);
  const proof = badCheckpoint.verificationMaterial.tlogEntries[0].inclusionProof;
  if (proof && proof.checkpoint) {
    const lines = proof.checkpoint.envelope.split('\n');
    lines[2] = flipBase64Byte(lines[2], 0);
    proof.checkpoint.envelope = lines.join('\n');
  }
  add('altered-checkpoint-root', badCheckpoint, good);

  const badTsa = clone(signedTsa);
  const ts = badTsa.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0];
  ts.signedTimestamp = flipBase64Byte(ts.signedTimestamp, Buffer.from(ts.signedTimestamp, 'base64').length - 5);
  add('flipped-tsa-signature', badTsa, good);

  fs.mkdirSync(out, { recursive: true });
  for (const c of cases) {
    const dir = path.join(out, c.name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'bundle.sigstore.json'), JSON.stringify(c.bundle));
    fs.writeFileSync(path.join(dir, 'artifact'), c.artifact);
    fs.writeFileSync(path.join(dir, 'trusted_root.json'), JSON.stringify(c.root));
    fs.writeFileSync(path.join(dir, 'identity'), c.identity);
    fs.writeFileSync(path.join(dir, 'issuer'), c.issuer);
    fs.writeFileSync(path.join(dir, 'expected'), referenceVerdict(c.bundle, c.artifact, c.root, c.identity, c.issuer));
  }

  console.log(`${cases.length} cases written to ${out}`);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
