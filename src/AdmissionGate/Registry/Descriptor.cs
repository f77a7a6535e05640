namespace AdmissionGate.Registry;

/// <summary>An OCI content descriptor as it appears in a manifest, index or referrers response.</summary>
public sealed record Descriptor(string MediaType, string Digest, long Size)
{
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = EmptyAnnotations;

    public string? ArtifactType { get; init; }

    /// <summary>Only set on entries of an index / manifest list.</summary>
    public Platform? Platform { get; init; }

    internal static readonly IReadOnlyDictionary<string, string> EmptyAnnotations =
        new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>The platform of an index entry.</summary>
public sealed record Platform(string Os, string Architecture, string? Variant);
