using System.Diagnostics.CodeAnalysis;

namespace AdmissionGate.Images;

// Interim implementation; replaced by the exhaustive parser from the imageref branch.
public sealed class ImageReference : IEquatable<ImageReference>
{
    private ImageReference(string original, string registry, string repository, string? tag, bool tagImplied, string? digest)
    {
        Original = original;
        Registry = registry;
        Repository = repository;
        Tag = tag;
        TagImplied = tagImplied;
        Digest = digest;
        Name = registry + "/" + repository;
        Normalized = Name + (tag is null ? string.Empty : ":" + tag) + (digest is null ? string.Empty : "@" + digest);
    }

    public string Original { get; }
    public string Registry { get; }
    public string Repository { get; }
    public string? Tag { get; }
    public bool TagImplied { get; }
    public string? Digest { get; }
    public string Name { get; }
    public string Normalized { get; }

    public static bool TryParse(string? text, [NotNullWhen(true)] out ImageReference? reference, [NotNullWhen(false)] out string? error)
    {
        reference = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "image reference is empty";
            return false;
        }

        string? digest = null;
        var rest = text;
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!digest.StartsWith("sha256:", StringComparison.Ordinal) || digest.Length != 71)
            {
                error = "invalid digest";
                return false;
            }
        }

        string? tag = null;
        var lastSlash = rest.LastIndexOf('/');
        var colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
        }

        var firstSlash = rest.IndexOf('/', StringComparison.Ordinal);
        string registry;
        string repository;
        if (firstSlash > 0 && (rest[..firstSlash].Contains('.', StringComparison.Ordinal) || rest[..firstSlash].Contains(':', StringComparison.Ordinal) || rest[..firstSlash] == "localhost"))
        {
            registry = rest[..firstSlash];
            repository = rest[(firstSlash + 1)..];
        }
        else
        {
            registry = "docker.io";
            repository = rest;
        }

        if (registry == "index.docker.io")
        {
            registry = "docker.io";
        }

        if (registry == "docker.io" && !repository.Contains('/', StringComparison.Ordinal))
        {
            repository = "library/" + repository;
        }

        if (repository.Length == 0 || repository.Any(c => char.IsUpper(c) || char.IsWhiteSpace(c)))
        {
            error = "invalid repository name";
            return false;
        }

        var implied = tag is null && digest is null;
        reference = new ImageReference(text, registry, repository, implied ? "latest" : tag, implied, digest);
        error = null;
        return true;
    }

    public static ImageReference Parse(string text) =>
        TryParse(text, out var reference, out var error) ? reference : throw new FormatException(error);

    public ImageReference WithDigest(string digest) => new(Original, Registry, Repository, Tag, TagImplied, digest);

    public bool Equals(ImageReference? other) => other is not null && other.Normalized == Normalized;

    public override bool Equals(object? obj) => Equals(obj as ImageReference);

    public override int GetHashCode() => Normalized.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Normalized;
}
