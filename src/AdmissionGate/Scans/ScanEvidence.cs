using AdmissionGate.Images;
using AdmissionGate.Policy;
using AdmissionGate.Registry;

namespace AdmissionGate.Scans;

/// <summary>Severity as scanners report it; ordered so that a threshold can compare.</summary>
public enum Severity
{
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

/// <summary>One vulnerability a scanner found in one package of the image.</summary>
public sealed record VulnerabilityFinding(string Id, Severity Severity, string Package, string? InstalledVersion, string? FixedVersion)
{
    public bool Fixable => !string.IsNullOrEmpty(FixedVersion);
}

/// <summary>A vulnerability scan of one image digest, from a source the policy trusts.</summary>
public sealed record ScanReport(string Scanner, string? ScannerVersion, DateTimeOffset ScannedAt, IReadOnlyList<VulnerabilityFinding> Findings)
{
    /// <summary>Where the report came from, for messages and the audit trail (e.g. "attestation signed by ci").</summary>
    public required string Origin { get; init; }

    /// <summary>
    /// Set when the source reports counts rather than individual findings (Harbor's scan overview): then
    /// <see cref="Findings"/> is empty, and per-CVE exceptions and VEX cannot apply to the counted vulnerabilities.
    /// </summary>
    public ScanSummary? Summary { get; init; }
}

/// <summary>Vulnerability counts of a scan whose individual findings are not available.</summary>
public sealed record ScanSummary(IReadOnlyDictionary<Severity, int> BySeverity, int Total, int? Fixable)
{
    public int Count(Severity severity) => BySeverity.TryGetValue(severity, out var n) ? n : 0;

    /// <summary>How many are at or above <paramref name="threshold"/>.</summary>
    public int AtLeast(Severity threshold) => BySeverity.Where(p => p.Key >= threshold).Sum(p => p.Value);
}

public enum VexStatus
{
    NotAffected,
    Fixed,
    Affected,
    UnderInvestigation,
}

/// <summary>An OpenVEX statement about one vulnerability in this image; not_affected and fixed suppress it.</summary>
public sealed record VexStatement(string VulnerabilityId, VexStatus Status, string? Justification)
{
    public required string Origin { get; init; }

    public bool Suppresses => Status is VexStatus.NotAffected or VexStatus.Fixed;
}

public enum SbomFormat
{
    Spdx,
    CycloneDx,
}

/// <summary>A trusted SBOM attestation exists for the image.</summary>
public sealed record SbomAttestation(SbomFormat Format)
{
    public required string Origin { get; init; }
}

/// <summary>
/// Everything trusted that is known about one image digest's vulnerabilities. Untrusted evidence (unsigned, signed
/// by nobody the policy names, about another digest) never appears in Report/Vex/Sboms, only in Ignored.
/// </summary>
public sealed record ScanEvidence
{
    public static readonly ScanEvidence None = new();

    /// <summary>The newest trusted scan report, or null when the image is unscanned.</summary>
    public ScanReport? Report { get; init; }

    public IReadOnlyList<VexStatement> Vex { get; init; } = [];

    public IReadOnlyList<SbomAttestation> Sboms { get; init; } = [];

    /// <summary>Evidence that was found and not trusted, with the reason (for messages and the audit trail).</summary>
    public IReadOnlyList<string> Ignored { get; init; } = [];

    /// <summary>Set when evidence could not be gathered at all (registry or scanner API unreachable, timed out).</summary>
    public string? Unavailable { get; init; }
}

/// <summary>What the vulnerability check asks about: one resolved image digest under one policy tier.</summary>
public sealed record ScanQuery(CompiledPolicy Policy, TierPolicy Tier, ImageReference Image, string Digest)
{
    /// <summary>The endpoint that served the image (a mirror of its registry); attestations are read there. Null: the registry.</summary>
    public RegistryEndpoint? Endpoint { get; init; }
}

/// <summary>
/// The seam between the vulnerability check and where scan results come from (signed attestations on the image,
/// a registry's scanner API); the policy picks the source per registry. Implementations never throw for an
/// unreachable source: they answer with <see cref="ScanEvidence.Unavailable"/> set.
/// </summary>
public interface IScanEvidenceProvider
{
    ValueTask<ScanEvidence> GetAsync(ScanQuery query, CancellationToken cancellationToken);
}
