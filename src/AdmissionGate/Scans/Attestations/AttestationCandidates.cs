using System.Text;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Policy;
using AdmissionGate.Sigstore;

namespace AdmissionGate.Scans.Attestations;

/// <summary>
/// One attestation of the legacy cosign layout: a layer of the <c>sha256-&lt;hex&gt;.att</c> manifest holding a DSSE
/// envelope, with the certificate, Rekor bundle and timestamp in the same annotations as a <c>.sig</c> layer.
/// </summary>
internal sealed record LegacyCosignAttestation(string Source, byte[] Envelope, IReadOnlyDictionary<string, string> Annotations) : SignatureCandidate(Source)
{
    public const string DsseMediaType = "application/vnd.dsse.envelope.v1+json";

    public override VerificationResult Verify(SignatureAuthority authority, string imageDigest, TimeProvider time)
    {
        DsseEnvelope envelope;
        try
        {
            envelope = ParseEnvelope(Envelope);
        }
        catch (SigstoreVerificationException ex)
        {
            return VerificationResult.Failure("envelope", ex.Message);
        }

        return CosignSignatureVerifier.VerifyAttestation(
            envelope,
            Annotations.GetValueOrDefault(LegacyCosignSignature.CertificateAnnotation),
            Annotations.GetValueOrDefault(LegacyCosignSignature.ChainAnnotation),
            Annotations.GetValueOrDefault(LegacyCosignSignature.BundleAnnotation),
            Annotations.GetValueOrDefault(LegacyCosignSignature.TimestampAnnotation),
            Artifact.FromDigestString(imageDigest),
            authority.Policy,
            authority.TrustRoot.Value,
            time);
    }

    /// <summary>A DSSE envelope as JSON: <c>{"payloadType", "payload": base64, "signatures": [{"keyid", "sig"}]}</c>.</summary>
    internal static DsseEnvelope ParseEnvelope(byte[] json)
    {
        const string path = "DSSE envelope";
        using var document = SigstoreJson.Parse(Encoding.UTF8.GetString(json), path);
        var root = document.RootElement;
        if (root.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            throw new SigstoreVerificationException("the DSSE envelope is not a JSON object");
        }

        var signatures = SigstoreJson.OptionalArray(root, "signatures", path)
            .Select((s, i) => new DsseSignature(SigstoreJson.RequireBase64(s, "sig", $"{path}.signatures[{i}]"), SigstoreJson.OptionalString(s, "keyid", $"{path}.signatures[{i}]")))
            .ToList();
        return new DsseEnvelope(SigstoreJson.RequireString(root, "payloadType", path), SigstoreJson.RequireBase64(root, "payload", path), signatures);
    }
}

/// <summary>The attested statement carried by a candidate, once its signature has been verified.</summary>
internal static class AttestationContent
{
    /// <summary>The DSSE payload type and payload, or null when the candidate carries no envelope (a plain signature).</summary>
    public static (string PayloadType, byte[] Payload)? Of(SignatureCandidate candidate)
    {
        try
        {
            switch (candidate)
            {
                case LegacyCosignAttestation legacy:
                    var envelope = LegacyCosignAttestation.ParseEnvelope(legacy.Envelope);
                    return (envelope.PayloadType, envelope.Payload);
                case BundleReferrer referrer when SigstoreBundle.Parse(referrer.BundleJson).DsseEnvelope is { } dsse:
                    return (dsse.PayloadType, dsse.Payload);
                default:
                    return null;
            }
        }
        catch (SigstoreVerificationException)
        {
            // Verification parsed the same bytes successfully; unreachable in practice, and never trusted.
            return null;
        }
    }
}
