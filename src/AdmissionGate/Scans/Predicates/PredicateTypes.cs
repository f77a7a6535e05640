namespace AdmissionGate.Scans.Predicates;

/// <summary>The in-toto predicate types the gate reads; any other predicate (provenance, ...) is skipped.</summary>
public static class PredicateTypes
{
    /// <summary>cosign vulnerability scan record (<c>cosign attest --type vuln</c>, <c>trivy --format cosign-vuln</c>).</summary>
    public const string CosignVuln = "https://cosign.sigstore.dev/attestation/vuln/v1";

    /// <summary>cosign's generic predicate (<c>cosign attest --type custom</c>): a Trivy or Grype report in Data.</summary>
    public const string CosignCustom = "https://cosign.sigstore.dev/attestation/v1";

    /// <summary>A bare Trivy JSON report as the predicate (<c>cosign attest --type https://trivy.dev/report</c>).</summary>
    public const string TrivyReport = "https://trivy.dev/report";

    /// <summary>A bare Grype JSON report as the predicate (<c>cosign attest --type https://anchore.com/grype/report</c>).</summary>
    public const string GrypeReport = "https://anchore.com/grype/report";

    /// <summary>SPDX; versioned variants (<c>https://spdx.dev/Document/v2.3</c>) match too.</summary>
    public const string Spdx = "https://spdx.dev/Document";

    /// <summary>CycloneDX; versioned variants (<c>https://cyclonedx.org/bom/v1.5</c>) match too.</summary>
    public const string CycloneDx = "https://cyclonedx.org/bom";

    /// <summary>OpenVEX; versioned variants (<c>https://openvex.dev/ns/v0.2.0</c>) match too.</summary>
    public const string OpenVex = "https://openvex.dev/ns";

    /// <summary>The type itself or a versioned variant of it (<c>{type}/v...</c> or <c>{type}@v...</c>).</summary>
    public static bool Matches(string type, string family) =>
        type.StartsWith(family, StringComparison.Ordinal)
        && (type.Length == family.Length || (type.Length > family.Length + 1 && type[family.Length] is '/' or '@' && type[family.Length + 1] is 'v'));
}
