using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace AdmissionGate.Sigstore;

/// <summary>
/// Verifies Sigstore bundles against a trust root and a policy, the way the Sigstore clients do:
/// content signature, transparency log entry (SET or inclusion proof + signed checkpoint) that matches the
/// bundle, RFC 3161 timestamps, Fulcio chain valid at the proven signing time, embedded SCTs, identity.
/// </summary>
public sealed class BundleVerifier
{
    private const string InTotoPayloadType = "application/vnd.in-toto+json";
    private static readonly TimeSpan AllowedClockSkew = TimeSpan.FromMinutes(1);

    private readonly TrustedRoot _root;
    private readonly TimeProvider _time;

    public BundleVerifier(TrustedRoot root, TimeProvider? timeProvider = null)
    {
        _root = root ?? throw new ArgumentNullException(nameof(root));
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Parses then verifies; a malformed bundle is a failed verification, never an exception.</summary>
    public VerificationResult Verify(string bundleJson, Artifact artifact, VerificationPolicy policy)
    {
        SigstoreBundle bundle;
        try
        {
            bundle = SigstoreBundle.Parse(bundleJson);
        }
        catch (SigstoreVerificationException ex)
        {
            return VerificationResult.Failure("bundle", ex.Message);
        }

        return Verify(bundle, artifact, policy);
    }

    public VerificationResult Verify(SigstoreBundle bundle, Artifact artifact, VerificationPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(artifact);
        ArgumentNullException.ThrowIfNull(policy);
        try
        {
            return VerifyCore(bundle, artifact, policy);
        }
        catch (SigstoreVerificationException ex)
        {
            return VerificationResult.Failure("bundle", ex.Message);
        }
        catch (Exception ex) when (ex is CryptographicException or System.Formats.Asn1.AsnContentException or FormatException or ArgumentException or OverflowException or PlatformNotSupportedException)
        {
            // Hostile input must end in a verdict, never in a crash of the admission path.
            return VerificationResult.Failure("bundle", $"malformed verification material ({ex.GetType().Name})");
        }
    }

    private VerificationResult VerifyCore(SigstoreBundle bundle, Artifact artifact, VerificationPolicy policy)
    {
        // 1. Which key signed, and is it the kind of key the policy expects.
        SigstorePublicKey key;
        if (policy.PublicKey is not null)
        {
            if (bundle.Certificate is not null)
            {
                return VerificationResult.Failure("key material", "policy expects a public key but the bundle is signed with a certificate");
            }

            key = policy.PublicKey;
        }
        else
        {
            if (bundle.Certificate is null)
            {
                return VerificationResult.Failure("key material", "policy expects a certificate identity but the bundle is signed with a public key and no key was provided");
            }

            var structural = CertificateStructureFailure(bundle);
            if (structural is not null)
            {
                return structural;
            }

            key = SigstorePublicKey.FromCertificate(bundle.Certificate);
        }

        // 2. The signature over the artifact (or DSSE payload), and the binding of the artifact to it.
        var contentFailure = bundle.MessageSignature is not null
            ? VerifyMessageSignature(bundle.MessageSignature, artifact, key)
            : VerifyDsse(bundle.DsseEnvelope!, artifact, key);
        if (contentFailure is not null)
        {
            return contentFailure;
        }

        // 3. Transparency log entries: required unless a key authority relaxed it (keyless policies never can).
        var logRequirement = bundle.Certificate is null ? policy.TransparencyLog : TransparencyLogRequirement.Required;
        if (bundle.TlogEntries.Count == 0 && logRequirement == TransparencyLogRequirement.Required)
        {
            return VerificationResult.Failure("transparency log", "bundle has no transparency log entry");
        }

        var timestamps = new List<VerifiedTimestamp>();
        var now = _time.GetUtcNow();
        IReadOnlyList<TlogEntry> entries = logRequirement == TransparencyLogRequirement.None ? [] : bundle.TlogEntries;
        foreach (var entry in entries)
        {
            var failure = VerifyTlogEntry(entry, bundle, artifact, key, now, timestamps);
            if (failure is not null)
            {
                return failure;
            }
        }

        // 4. RFC 3161 timestamps over the signature.
        foreach (var signedTimestamp in bundle.Rfc3161Timestamps)
        {
            try
            {
                timestamps.Add(new VerifiedTimestamp("tsa", TimestampAuthorityVerifier.Verify(signedTimestamp, bundle.SignatureBytes, _root)));
            }
            catch (SigstoreVerificationException ex)
            {
                return VerificationResult.Failure("timestamp authority", ex.Message);
            }
        }

        // Rekor v2 entries carry no integrated time: the log's key must have been valid at some proven time.
        foreach (var entry in entries.Where(e => e.IntegratedTime is null or 0))
        {
            var log = _root.FindTlog(entry.LogId)!;
            if (timestamps.Count > 0 && !timestamps.Any(t => log.ValidFor.Contains(t.Time)))
            {
                return VerificationResult.Failure("transparency log", "no verified timestamp falls inside the log key's validity in the trust root");
            }
        }

        var signingTime = timestamps.Count == 0 ? (DateTimeOffset?)null : timestamps.Min(t => t.Time);
        if (bundle.Certificate is null)
        {
            return new VerificationResult { Verified = true, SigningTime = signingTime, Timestamps = timestamps, PayloadType = bundle.DsseEnvelope?.PayloadType, KeyOnly = entries.Count == 0 };
        }

        if (timestamps.Count == 0)
        {
            return VerificationResult.Failure("signing time", "no verified timestamp (transparency log SET or RFC 3161) proves when the certificate was used");
        }

        // 5. The certificate: chain to a Fulcio CA at every proven time, SCTs, identity.
        return VerifyCertificate(bundle, policy.Identity!, timestamps, signingTime!.Value);
    }

    private static VerificationResult? VerifyMessageSignature(MessageSignature signature, Artifact artifact, SigstorePublicKey key)
    {
        if (signature.Digest.Length > 0)
        {
            var digest = artifact.Digest(signature.DigestAlgorithm);
            if (digest is null)
            {
                return VerificationResult.Failure("artifact digest", $"cannot compute {signature.DigestAlgorithm} of the artifact");
            }

            if (!digest.AsSpan().SequenceEqual(signature.Digest))
            {
                return VerificationResult.Failure("artifact digest", "the bundle's message digest does not match the artifact");
            }
        }

        var verified = artifact.Data is not null
            ? key.VerifyData(artifact.Data, signature.Signature) || key.VerifyDigest(artifact.Sha256, signature.Signature, HashAlgorithmName.SHA256)
            : key.VerifyDigest(artifact.Sha256, signature.Signature, HashAlgorithmName.SHA256);
        return verified ? null : VerificationResult.Failure("signature", "the signature does not verify over the artifact with the signing key");
    }

    private static VerificationResult? VerifyDsse(DsseEnvelope envelope, Artifact artifact, SigstorePublicKey key)
    {
        var pae = Dsse.PreAuthEncoding(envelope.PayloadType, envelope.Payload);
        if (!key.VerifyData(pae, envelope.Signatures[0].Signature))
        {
            return VerificationResult.Failure("signature", "the DSSE envelope signature does not verify with the signing key");
        }

        if (!string.Equals(envelope.PayloadType, InTotoPayloadType, StringComparison.Ordinal))
        {
            return VerificationResult.Failure("artifact digest", $"DSSE payload type '{envelope.PayloadType}' does not bind an artifact (expected in-toto)");
        }

        try
        {
            using var statement = JsonDocument.Parse(envelope.Payload);
            foreach (var subject in SigstoreJson.OptionalArray(statement.RootElement, "subject", "statement"))
            {
                var digests = SigstoreJson.OptionalObject(subject, "digest", "statement.subject[]");
                if (digests is null)
                {
                    continue;
                }

                foreach (var property in digests.Value.EnumerateObject())
                {
                    var expected = artifact.Digest(property.Name);
                    if (expected is not null && property.Value.ValueKind == JsonValueKind.String &&
                        string.Equals(property.Value.GetString(), Convert.ToHexStringLower(expected), StringComparison.OrdinalIgnoreCase))
                    {
                        return null;
                    }
                }
            }
        }
        catch (JsonException ex)
        {
            return VerificationResult.Failure("artifact digest", $"in-toto statement is not valid JSON: {ex.Message}");
        }
        catch (SigstoreVerificationException ex)
        {
            return VerificationResult.Failure("artifact digest", ex.Message);
        }

        return VerificationResult.Failure("artifact digest", "no in-toto subject digest matches the artifact");
    }

    private VerificationResult? VerifyTlogEntry(TlogEntry entry, SigstoreBundle bundle, Artifact artifact, SigstorePublicKey key, DateTimeOffset now, List<VerifiedTimestamp> timestamps)
    {
        var log = _root.FindTlog(entry.LogId);
        if (log is null)
        {
            return VerificationResult.Failure("transparency log", $"entry is from log {Convert.ToBase64String(entry.LogId)}, which the trust root does not know");
        }

        var mismatch = RekorBodyMatcher.Mismatch(entry, bundle, artifact, key);
        if (mismatch is not null)
        {
            return VerificationResult.Failure("transparency log entry", mismatch);
        }

        var hasTime = entry.IntegratedTime is > 0;
        if (entry.SignedEntryTimestamp is not null)
        {
            if (!hasTime || !SignedEntryTimestamp.Verify(entry, log))
            {
                return VerificationResult.Failure("inclusion promise", "the signed entry timestamp does not verify with the log's key");
            }
        }

        if (entry.InclusionProof is { } proof)
        {
            var failure = VerifyInclusionProof(entry, proof, log, checkpointRequired: bundle.MinorVersion >= 2);
            if (failure is not null)
            {
                return failure;
            }
        }
        else if (entry.SignedEntryTimestamp is null)
        {
            return VerificationResult.Failure("transparency log", "entry has neither an inclusion proof nor an inclusion promise");
        }

        if (hasTime)
        {
            var integrated = DateTimeOffset.FromUnixTimeSeconds(entry.IntegratedTime!.Value);
            if (integrated > now + AllowedClockSkew)
            {
                return VerificationResult.Failure("transparency log", $"integrated time {integrated:O} is in the future");
            }

            if (!log.ValidFor.Contains(integrated))
            {
                return VerificationResult.Failure("transparency log", $"integrated time {integrated:O} is outside the log key's validity in the trust root");
            }

            // Only a time the log signed (SET) proves when the entry was made.
            if (entry.SignedEntryTimestamp is not null)
            {
                timestamps.Add(new VerifiedTimestamp("tlog", integrated));
            }
        }

        return null;
    }

    private static VerificationResult? VerifyInclusionProof(TlogEntry entry, InclusionProof proof, TransparencyLogInstance log, bool checkpointRequired)
    {
        byte[] computed;
        try
        {
            computed = MerkleTree.RootFromInclusionProof(proof.LogIndex, proof.TreeSize, MerkleTree.LeafHash(entry.CanonicalizedBody), proof.Hashes);
        }
        catch (SigstoreVerificationException ex)
        {
            return VerificationResult.Failure("inclusion proof", ex.Message);
        }

        if (!computed.AsSpan().SequenceEqual(proof.RootHash))
        {
            return VerificationResult.Failure("inclusion proof", "the proof does not lead to the claimed root hash");
        }

        if (string.IsNullOrEmpty(proof.Checkpoint))
        {
            // v0.1 bundles predate checkpoints; their SET (verified above) is what the log signed.
            return checkpointRequired ? VerificationResult.Failure("checkpoint", "the inclusion proof has no signed checkpoint") : null;
        }

        SignedCheckpoint checkpoint;
        try
        {
            checkpoint = SignedCheckpoint.Parse(proof.Checkpoint);
        }
        catch (SigstoreVerificationException ex)
        {
            return VerificationResult.Failure("checkpoint", ex.Message);
        }

        if (!checkpoint.IsSignedBy(log))
        {
            return VerificationResult.Failure("checkpoint", "no checkpoint signature from the log's key verifies");
        }

        if (!checkpoint.RootHash.AsSpan().SequenceEqual(proof.RootHash) || checkpoint.TreeSize != proof.TreeSize)
        {
            return VerificationResult.Failure("checkpoint", "the checkpoint's root hash or tree size differs from the inclusion proof");
        }

        return null;
    }

    private VerificationResult VerifyCertificate(SigstoreBundle bundle, CertificateIdentityPolicy identityPolicy, List<VerifiedTimestamp> timestamps, DateTimeOffset signingTime)
    {
        var leaf = bundle.Certificate!;

        IReadOnlyList<X509Certificate2>? chain = null;
        foreach (var timestamp in timestamps)
        {
            if (!CertificateUtil.ValidAt(leaf, timestamp.Time))
            {
                return VerificationResult.Failure("certificate validity", $"{timestamp.Source} time {timestamp.Time:O} is outside the certificate's validity ({CertificateUtil.NotBefore(leaf):O} to {CertificateUtil.NotAfter(leaf):O})");
            }

            var reasons = new List<string>();
            IReadOnlyList<X509Certificate2>? built = null;
            foreach (var authority in _root.CertificateAuthorities)
            {
                if (!authority.ValidFor.Contains(timestamp.Time))
                {
                    reasons.Add($"{authority.Uri} is not valid at {timestamp.Time:O}");
                    continue;
                }

                built = CertificateChainVerifier.Build(leaf, authority, timestamp.Time, out var reason);
                if (built is not null)
                {
                    break;
                }

                reasons.Add(reason!);
            }

            if (built is null)
            {
                return VerificationResult.Failure("certificate chain", reasons.Count == 0 ? "trust root has no certificate authorities" : string.Join("; ", reasons));
            }

            chain ??= built;
        }

        if (chain!.Count < 2)
        {
            return VerificationResult.Failure("certificate chain", "the signing certificate has no issuer in the chain");
        }

        var sctFailure = SctVerifier.VerifyEmbedded(leaf, chain[1], _root);
        if (sctFailure is not null)
        {
            return VerificationResult.Failure("signed certificate timestamp", sctFailure);
        }

        var identity = FulcioIdentity.FromCertificate(leaf);
        var mismatch = identityPolicy.Mismatch(identity);
        if (mismatch is not null)
        {
            return VerificationResult.Failure("certificate identity", mismatch);
        }

        return new VerificationResult
        {
            Verified = true,
            SignerIdentity = identity.SubjectAlternativeName,
            Issuer = identity.Issuer,
            SigningTime = signingTime,
            Timestamps = timestamps,
            PayloadType = bundle.DsseEnvelope?.PayloadType,
        };
    }

    private static VerificationResult? CertificateStructureFailure(SigstoreBundle bundle)
    {
        var leaf = bundle.Certificate!;
        if (IsCertificateAuthority(leaf) || CertificateUtil.IsSelfSigned(leaf))
        {
            return VerificationResult.Failure("certificate", "the signing certificate is a CA or self-signed certificate");
        }

        if (bundle.ExtraCertificates.Any(CertificateUtil.IsSelfSigned))
        {
            return VerificationResult.Failure("certificate", "the bundle's certificate chain contains a root certificate; roots must come from the trust root");
        }

        var eku = leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (eku is not null && !eku.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == "1.3.6.1.5.5.7.3.3"))
        {
            return VerificationResult.Failure("certificate", "the signing certificate is not valid for code signing");
        }

        return null;
    }

    private static bool IsCertificateAuthority(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);
}
