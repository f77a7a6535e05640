using System.Text.RegularExpressions;

namespace AdmissionGate.Sigstore;

/// <summary>
/// Who must have signed: a Fulcio certificate identity (SAN and OIDC issuer, exact or regular expression,
/// optionally GitHub workflow claims by Fulcio extension OID). Regular expressions search like cosign's
/// --certificate-identity-regexp; anchor them (^...$) for a full match.
/// </summary>
public sealed record CertificateIdentityPolicy
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    public string? SubjectAlternativeName { get; init; }

    public string? SubjectAlternativeNameRegex { get; init; }

    public string? Issuer { get; init; }

    public string? IssuerRegex { get; init; }

    /// <summary>Extension OID (e.g. <see cref="FulcioIdentity.GitHubWorkflowRepositoryOid"/>) to exact expected value.</summary>
    public IReadOnlyDictionary<string, string> ExtensionClaims { get; init; } = new Dictionary<string, string>();

    public static CertificateIdentityPolicy Exact(string subjectAlternativeName, string issuer) =>
        new() { SubjectAlternativeName = subjectAlternativeName, Issuer = issuer };

    /// <summary>Null when the identity matches, otherwise why not.</summary>
    public string? Mismatch(FulcioIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (SubjectAlternativeName is null && SubjectAlternativeNameRegex is null)
        {
            return "policy names no certificate identity";
        }

        if (Issuer is null && IssuerRegex is null)
        {
            return "policy names no OIDC issuer";
        }

        var san = identity.SubjectAlternativeName;
        if (san is null)
        {
            return "certificate has no subject alternative name";
        }

        if (SubjectAlternativeName is not null && !string.Equals(san, SubjectAlternativeName, StringComparison.Ordinal))
        {
            return $"certificate identity '{san}' is not '{SubjectAlternativeName}'";
        }

        if (SubjectAlternativeNameRegex is not null && !Regex.IsMatch(san, SubjectAlternativeNameRegex, RegexOptions.CultureInvariant, RegexTimeout))
        {
            return $"certificate identity '{san}' does not match /{SubjectAlternativeNameRegex}/";
        }

        var issuer = identity.Issuer;
        if (issuer is null)
        {
            return "certificate has no OIDC issuer extension";
        }

        if (Issuer is not null && !string.Equals(issuer, Issuer, StringComparison.Ordinal))
        {
            return $"certificate OIDC issuer '{issuer}' is not '{Issuer}'";
        }

        if (IssuerRegex is not null && !Regex.IsMatch(issuer, IssuerRegex, RegexOptions.CultureInvariant, RegexTimeout))
        {
            return $"certificate OIDC issuer '{issuer}' does not match /{IssuerRegex}/";
        }

        foreach (var (oid, expected) in ExtensionClaims)
        {
            var actual = identity.Extension(oid);
            if (!string.Equals(actual, expected, StringComparison.Ordinal))
            {
                return $"certificate extension {oid} is '{actual ?? "<absent>"}', expected '{expected}'";
            }
        }

        return null;
    }
}

/// <summary>Whether a key signature needs a transparency log entry (<c>transparencyLog</c> of a key authority).</summary>
public enum TransparencyLogRequirement
{
    /// <summary>A verified log entry must exist (the Sigstore default).</summary>
    Required,

    /// <summary>Entries that are present must verify; a signature without one verifies by key alone.</summary>
    Optional,

    /// <summary>Air-gapped: the key alone verifies; log entries are not consulted (the trust root may not know the log).</summary>
    None,
}

/// <summary>What a bundle must satisfy: either signed by a known public key, or by a certificate identity.</summary>
public sealed record VerificationPolicy
{
    private VerificationPolicy(SigstorePublicKey? publicKey, CertificateIdentityPolicy? identity, TransparencyLogRequirement transparencyLog)
    {
        PublicKey = publicKey;
        Identity = identity;
        TransparencyLog = transparencyLog;
    }

    public SigstorePublicKey? PublicKey { get; }

    public CertificateIdentityPolicy? Identity { get; }

    /// <summary>Always <see cref="TransparencyLogRequirement.Required"/> for identities: a Fulcio certificate is short-lived, only the log proves when it was used.</summary>
    public TransparencyLogRequirement TransparencyLog { get; }

    public static VerificationPolicy ForKey(SigstorePublicKey key, TransparencyLogRequirement transparencyLog = TransparencyLogRequirement.Required) =>
        new(key ?? throw new ArgumentNullException(nameof(key)), null, transparencyLog);

    public static VerificationPolicy ForKeyPem(string pem, TransparencyLogRequirement transparencyLog = TransparencyLogRequirement.Required) =>
        ForKey(SigstorePublicKey.FromPem(pem), transparencyLog);

    public static VerificationPolicy ForIdentity(CertificateIdentityPolicy identity) =>
        new(null, identity ?? throw new ArgumentNullException(nameof(identity)), TransparencyLogRequirement.Required);
}
