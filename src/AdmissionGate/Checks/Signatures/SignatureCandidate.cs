using System.Text;
using System.Text.Json;
using AdmissionGate.Policy;
using AdmissionGate.Sigstore;

namespace AdmissionGate.Checks.Signatures;

/// <summary>One signature found for an image: a legacy cosign layer or a Sigstore bundle referrer.</summary>
internal abstract record SignatureCandidate(string Source)
{
    public abstract VerificationResult Verify(SignatureAuthority authority, string imageDigest, TimeProvider time);

    /// <summary>Like <see cref="Verify"/>, with a trust root that cannot be loaded reported as a failed verification.</summary>
    public VerificationResult VerifyOrFail(SignatureAuthority authority, string imageDigest, TimeProvider time)
    {
        try
        {
            return Verify(authority, imageDigest, time);
        }
        catch (Exception ex) when (ex is SigstoreVerificationException or IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            return VerificationResult.Failure("trust root", "cannot be loaded: " + ex.Message);
        }
    }
}

internal sealed record LegacyCosignSignature(string Source, byte[] Payload, IReadOnlyDictionary<string, string> Annotations) : SignatureCandidate(Source)
{
    public const string SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json";
    public const string SignatureAnnotation = "dev.cosignproject.cosign/signature";
    public const string CertificateAnnotation = "dev.sigstore.cosign/certificate";
    public const string ChainAnnotation = "dev.sigstore.cosign/chain";
    public const string BundleAnnotation = "dev.sigstore.cosign/bundle";
    public const string TimestampAnnotation = "dev.sigstore.cosign/rfc3161timestamp";
    public const string PayloadType = "cosign container image signature";

    public override VerificationResult Verify(SignatureAuthority authority, string imageDigest, TimeProvider time)
    {
        // The signature covers the payload; the payload must name this very image, or a valid signature of some
        // other image could be replayed onto it.
        var binding = PayloadBinding(imageDigest);
        if (binding is not null)
        {
            return VerificationResult.Failure("payload", binding);
        }

        return CosignSignatureVerifier.Verify(
            Payload,
            Annotations.GetValueOrDefault(SignatureAnnotation) ?? string.Empty,
            Annotations.GetValueOrDefault(CertificateAnnotation),
            Annotations.GetValueOrDefault(ChainAnnotation),
            Annotations.GetValueOrDefault(BundleAnnotation),
            Annotations.GetValueOrDefault(TimestampAnnotation),
            authority.Policy,
            authority.TrustRoot.Value,
            time);
    }

    private string? PayloadBinding(string imageDigest)
    {
        try
        {
            using var document = JsonDocument.Parse(Payload);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("critical", out var critical) || critical.ValueKind != JsonValueKind.Object)
            {
                return "the payload has no \"critical\" section";
            }

            var type = critical.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type != PayloadType)
            {
                return $"the payload type is \"{Clip(type)}\", not \"{PayloadType}\"";
            }

            var digest = critical.TryGetProperty("image", out var image) && image.ValueKind == JsonValueKind.Object
                && image.TryGetProperty("docker-manifest-digest", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            return digest == imageDigest ? null : $"the payload is for {Clip(digest)}, not {imageDigest}";
        }
        catch (JsonException)
        {
            return "the payload is not JSON: " + Clip(Encoding.UTF8.GetString(Payload));
        }
    }

    private static string Clip(string? text) => text is null ? "(none)" : text.Length <= 80 ? text : text[..80] + "…";
}

internal sealed record BundleReferrer(string Source, string BundleJson) : SignatureCandidate(Source)
{
    public static readonly IReadOnlySet<string> MediaTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
    };

    public override VerificationResult Verify(SignatureAuthority authority, string imageDigest, TimeProvider time) =>
        new BundleVerifier(authority.TrustRoot.Value, time).Verify(BundleJson, Artifact.FromDigestString(imageDigest), authority.Policy);
}
