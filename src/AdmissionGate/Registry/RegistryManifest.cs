namespace AdmissionGate.Registry;

/// <summary>
/// A manifest or index as fetched: the exact bytes (whose digest is <see cref="Digest"/>, already verified) and
/// the descriptors parsed from them.
/// </summary>
public sealed class RegistryManifest
{
    public required string MediaType { get; init; }

    /// <summary>The verified digest of <see cref="Content"/>.</summary>
    public required string Digest { get; init; }

    public required ReadOnlyMemory<byte> Content { get; init; }

    /// <summary>Image manifests only.</summary>
    public Descriptor? Config { get; init; }

    /// <summary>Image manifests only; empty for indexes.</summary>
    public IReadOnlyList<Descriptor> Layers { get; init; } = [];

    /// <summary>Indexes / manifest lists only; empty for image manifests.</summary>
    public IReadOnlyList<Descriptor> Manifests { get; init; } = [];

    public Descriptor? Subject { get; init; }

    public string? ArtifactType { get; init; }

    public IReadOnlyDictionary<string, string> Annotations { get; init; } = Descriptor.EmptyAnnotations;

    public bool IsIndex => OciMediaTypes.IsIndex(MediaType);
}
