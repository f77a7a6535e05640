using System.Security.Cryptography.X509Certificates;

namespace AdmissionGate.Sigstore;

/// <summary>
/// Builds a chain from a leaf to one certificate authority of the trust root, evaluated at a given time
/// (the signing time), with no revocation lookups and no downloads: only the trust root's certificates count.
/// </summary>
public static class CertificateChainVerifier
{
    /// <summary>Returns the built chain (leaf first) or null with the reason in <paramref name="reason"/>.</summary>
    public static IReadOnlyList<X509Certificate2>? Build(X509Certificate2 leaf, CertificateAuthority authority, DateTimeOffset time, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        ArgumentNullException.ThrowIfNull(authority);
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTimeIgnored = false;
        policy.VerificationTime = time.UtcDateTime.ToLocalTime();
        var anchors = authority.Chain.Where(CertificateUtil.IsSelfSigned).ToList();
        if (anchors.Count == 0)
        {
            // A trust root may stop at an intermediate; that intermediate is then the anchor.
            anchors.Add(authority.Chain[^1]);
        }

        foreach (var certificate in authority.Chain)
        {
            if (anchors.Contains(certificate))
            {
                policy.CustomTrustStore.Add(certificate);
            }
            else
            {
                policy.ExtraStore.Add(certificate);
            }
        }

        if (!chain.Build(leaf))
        {
            var statuses = chain.ChainStatus.Select(s => s.Status.ToString()).Distinct();
            reason = $"certificate chain to {authority.Uri} does not verify at {time:O}: {string.Join(", ", statuses)}";
            return null;
        }

        reason = null;
        return chain.ChainElements.Select(e => e.Certificate).ToList();
    }
}
