namespace AdmissionGate.Policy;

/// <summary>Where the scan results of one registry's images come from.</summary>
public enum ScanSourceKind
{
    /// <summary>Signed in-toto attestations stored with the image (cosign <c>.att</c> tags, Sigstore bundle referrers).</summary>
    Attestations,

    /// <summary>The Harbor API's scan overview of the artifact.</summary>
    Harbor,

    /// <summary>No source: images of this registry are always unscanned.</summary>
    None,
}

/// <summary>One entry of <c>spec.scans.sources</c> (or the default).</summary>
public sealed record ScanSource(ScanSourceKind Kind)
{
    public static readonly ScanSource Attestations = new(ScanSourceKind.Attestations);

    /// <summary>Harbor's base URL (e.g. <c>https://harbor.example.com</c>); Harbor sources only.</summary>
    public Uri? Url { get; init; }

    /// <summary>Docker config with the Harbor credentials; null uses the registry's from <c>spec.registries</c>.</summary>
    public string? DockerConfigPath { get; init; }

    public override string ToString() => Kind == ScanSourceKind.Harbor ? $"harbor {Url}" : Kind.ToString().ToLowerInvariant();
}

/// <summary>
/// <c>spec.scans</c>: who may sign scan attestations, which source serves each registry, and how long answers are
/// cached. The vulnerability thresholds themselves are per tier and not part of this.
/// </summary>
public sealed class ScanSettings
{
    public static readonly ScanSettings Default = new();

    /// <summary>Authorities whose attestations are trusted (any one of them suffices). Empty: no attestation is trusted.</summary>
    public IReadOnlyList<SignatureAuthority> Authorities { get; init; } = [];

    /// <summary>Per canonical registry name.</summary>
    public IReadOnlyDictionary<string, ScanSource> Sources { get; init; } = new Dictionary<string, ScanSource>();

    public ScanSource DefaultSource { get; init; } = ScanSource.Attestations;

    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Identifies the authorities and sources, so cached evidence never outlives a policy change.</summary>
    public string Fingerprint { get; init; } = "default";

    public ScanSource SourceFor(string registry) => Sources.TryGetValue(registry, out var source) ? source : DefaultSource;
}
