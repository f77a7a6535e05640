using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AdmissionGate.Sigstore;

/// <summary>
/// Verifies one signature of the legacy cosign OCI layout (a <c>sha256-&lt;digest&gt;.sig</c> layer): the
/// simple-signing payload, its base64 signature (annotation <c>dev.cosignproject.cosign/signature</c>),
/// optionally the Fulcio certificate and chain, the Rekor bundle (<c>dev.sigstore.cosign/bundle</c>) and an
/// RFC 3161 timestamp (<c>dev.sigstore.cosign/rfc3161timestamp</c>). The material is turned into the
/// equivalent Sigstore bundle and checked by <see cref="BundleVerifier"/>, so both paths apply the same rules.
/// Binding the payload to the image (its docker-manifest-digest) is the caller's job.
/// </summary>
public static class CosignSignatureVerifier
{
    public static VerificationResult Verify(
        byte[] payload,
        string signatureB64,
        string? certPem,
        string? chainPem,
        string? rekorBundleJson,
        string? rfc3161B64,
        VerificationPolicy policy,
        TrustedRoot trustedRoot,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(trustedRoot);
        SigstoreBundle bundle;
        try
        {
            var signature = SigstoreJson.DecodeBase64(signatureB64 ?? string.Empty, "cosign signature");
            if (signature.Length == 0)
            {
                return VerificationResult.Failure("signature", "the cosign signature is empty");
            }

            var (certificate, entries, timestamps) = LegacyMaterial(certPem, chainPem, rekorBundleJson, rfc3161B64);
            bundle = SigstoreBundle.FromLegacyMaterial(certificate, entries, timestamps, new MessageSignature("SHA2_256", SHA256.HashData(payload), signature));
        }
        catch (SigstoreVerificationException ex)
        {
            return VerificationResult.Failure("cosign signature material", ex.Message);
        }

        return new BundleVerifier(trustedRoot, timeProvider).Verify(bundle, Artifact.FromBytes(payload), policy);
    }

    /// <summary>
    /// Verifies a legacy cosign attestation (a <c>sha256-&lt;digest&gt;.att</c> layer): the DSSE envelope in the layer
    /// with the same certificate, Rekor bundle and timestamp annotations as a signature. The in-toto statement's
    /// subject must name <paramref name="subject"/>.
    /// </summary>
    public static VerificationResult VerifyAttestation(
        DsseEnvelope envelope,
        string? certPem,
        string? chainPem,
        string? rekorBundleJson,
        string? rfc3161B64,
        Artifact subject,
        VerificationPolicy policy,
        TrustedRoot trustedRoot,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(trustedRoot);
        if (envelope.Signatures.Count != 1 || envelope.Signatures[0].Signature.Length == 0)
        {
            return VerificationResult.Failure("signature", $"the attestation envelope must carry exactly one signature, found {envelope.Signatures.Count}");
        }

        SigstoreBundle bundle;
        try
        {
            var (certificate, entries, timestamps) = LegacyMaterial(certPem, chainPem, rekorBundleJson, rfc3161B64);
            bundle = SigstoreBundle.FromLegacyMaterial(certificate, entries, timestamps, envelope);
        }
        catch (SigstoreVerificationException ex)
        {
            return VerificationResult.Failure("cosign attestation material", ex.Message);
        }

        return new BundleVerifier(trustedRoot, timeProvider).Verify(bundle, subject, policy);
    }

    private static (System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate, TlogEntry[] Entries, byte[][] Timestamps) LegacyMaterial(
        string? certPem, string? chainPem, string? rekorBundleJson, string? rfc3161B64)
    {
        var certificate = string.IsNullOrWhiteSpace(certPem) ? null : CertificateUtil.LoadPemOrDer(Encoding.UTF8.GetBytes(certPem))[0];
        if (!string.IsNullOrWhiteSpace(chainPem))
        {
            // The chain annotation is informational: trust comes only from the trust root, so it must just parse.
            _ = CertificateUtil.LoadPemOrDer(Encoding.UTF8.GetBytes(chainPem));
        }

        var entries = string.IsNullOrWhiteSpace(rekorBundleJson) ? [] : new[] { ParseRekorBundle(rekorBundleJson) };
        var timestamps = string.IsNullOrWhiteSpace(rfc3161B64) ? [] : new[] { ParseTimestamp(rfc3161B64) };
        return (certificate, entries, timestamps);
    }

    /// <summary>Parses <c>{"SignedEntryTimestamp": b64, "Payload": {"body": b64, "integratedTime", "logIndex", "logID": hex}}</c>.</summary>
    internal static TlogEntry ParseRekorBundle(string json)
    {
        using var document = SigstoreJson.Parse(json, "cosign Rekor bundle");
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new SigstoreVerificationException("cosign Rekor bundle is not a JSON object");
        }

        var set = SigstoreJson.RequireBase64(root, "SignedEntryTimestamp", "rekorBundle");
        var payload = SigstoreJson.RequireObject(root, "Payload", "rekorBundle");
        var body = SigstoreJson.RequireBase64(payload, "body", "rekorBundle.Payload");
        var integratedTime = SigstoreJson.RequireInt64(payload, "integratedTime", "rekorBundle.Payload");
        var logIndex = SigstoreJson.RequireInt64(payload, "logIndex", "rekorBundle.Payload");
        if (logIndex < 0 || integratedTime <= 0)
        {
            throw new SigstoreVerificationException("cosign Rekor bundle has a negative log index or no integrated time");
        }

        byte[] logId;
        try
        {
            logId = Convert.FromHexString(SigstoreJson.RequireString(payload, "logID", "rekorBundle.Payload"));
        }
        catch (FormatException)
        {
            throw new SigstoreVerificationException("cosign Rekor bundle logID is not hexadecimal");
        }

        // The entry kind is read from the body itself; the matcher then checks it against the signature.
        string kind;
        string version;
        using (var bodyDocument = SigstoreJson.Parse(Encoding.UTF8.GetString(body), "cosign Rekor entry body"))
        {
            kind = SigstoreJson.RequireString(bodyDocument.RootElement, "kind", "body");
            version = SigstoreJson.RequireString(bodyDocument.RootElement, "apiVersion", "body");
        }

        return new TlogEntry(logIndex, logId, kind, version, integratedTime, set, null, body);
    }

    /// <summary>Accepts the annotation's JSON (<c>{"SignedRFC3161Timestamp": b64}</c>) or the bare base64 DER.</summary>
    private static byte[] ParseTimestamp(string value)
    {
        var trimmed = value.Trim();
        if (!trimmed.StartsWith('{'))
        {
            return SigstoreJson.DecodeBase64(trimmed, "RFC 3161 timestamp");
        }

        using var document = SigstoreJson.Parse(trimmed, "cosign RFC 3161 timestamp");
        return SigstoreJson.RequireBase64(document.RootElement, "SignedRFC3161Timestamp", "rfc3161timestamp");
    }
}
