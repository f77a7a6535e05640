using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace AdmissionGate.Images;

/// <summary>
/// A container image reference parsed exactly like Docker/containerd do
/// (distribution/reference <c>ParseNormalizedNamed</c>), so the gate judges the same image the
/// kubelet will pull. Immutable; equality is on <see cref="Normalized"/>.
/// </summary>
/// <remarks>
/// Where upstream would accept an input but give it a surprising meaning, this type rejects it
/// instead (rejecting is the safe direction for an admission gate):
/// <list type="bullet">
/// <item>A first segment that contains '.' but is not a valid host (only possible with '_', e.g.
/// <c>my_reg.local/app</c>): upstream silently falls back to a name with an empty domain, which
/// different clients resolve differently.</item>
/// <item>Ports outside 1..65535, registry domains over 255 characters, inputs over 1024 characters.</item>
/// </list>
/// </remarks>
public sealed class ImageReference : IEquatable<ImageReference>
{
    /// <summary>Docker Hub's canonical registry name.</summary>
    public const string DockerHubRegistry = "docker.io";

    /// <summary>The historical "Docker Index" name, canonicalised to <see cref="DockerHubRegistry"/>.</summary>
    public const string LegacyDockerHubRegistry = "index.docker.io";

    /// <summary>Tag assumed when a reference has neither tag nor digest.</summary>
    public const string DefaultTag = "latest";

    /// <summary>
    /// Longest accepted input. Every valid reference fits (registry 255 + path 255 + tag 128 + sha512
    /// digest 135 + separators), and capping first keeps hostile megabyte strings cheap to reject.
    /// </summary>
    public const int MaxLength = 1024;

    private const string OfficialPrefix = "library/";

    // Normalized = Registry "/" Repository [":" Tag] ["@" Digest]; the other strings are slices of it,
    // materialised on first use so the hot path pays for one string (or none, see Create).
    private readonly int _registryLength;
    private readonly int _nameLength;
    private readonly int _tagLength;
    private readonly int _digestLength;
    private string? _registry;
    private string? _repository;
    private string? _name;
    private string? _tag;
    private string? _digest;

    private ImageReference(string original, string normalized, int registryLength, int nameLength, int tagLength, int digestLength, bool tagImplied)
    {
        Original = original;
        Normalized = normalized;
        _registryLength = registryLength;
        _nameLength = nameLength;
        _tagLength = tagLength;
        _digestLength = digestLength;
        TagImplied = tagImplied;
    }

    /// <summary>The reference exactly as written (e.g. in the pod spec).</summary>
    public string Original { get; }

    /// <summary>Registry host with optional port: <c>docker.io</c>, <c>localhost:5000</c>, <c>[::1]:5000</c>. Case is preserved as written.</summary>
    public string Registry => _registry ??= _registryLength == DockerHubRegistry.Length && Normalized.StartsWith(DockerHubRegistry, StringComparison.Ordinal)
        ? DockerHubRegistry
        : Normalized[.._registryLength];

    /// <summary>Repository path within the registry, e.g. <c>library/nginx</c>.</summary>
    public string Repository => _repository ??= Normalized[(_registryLength + 1).._nameLength];

    /// <summary><see cref="Registry"/> without materialising it (policy matching runs on every image of every request).</summary>
    internal ReadOnlySpan<char> RegistrySpan => Normalized.AsSpan(0, _registryLength);

    /// <summary><see cref="Repository"/> without materialising it.</summary>
    internal ReadOnlySpan<char> RepositorySpan => Normalized.AsSpan(_registryLength + 1, _nameLength - _registryLength - 1);

    /// <summary>The tag; <c>latest</c> when neither tag nor digest was written (see <see cref="TagImplied"/>).</summary>
    public string? Tag => _tagLength < 0 ? null : (_tag ??= TagImplied ? DefaultTag : Normalized.Substring(_nameLength + 1, _tagLength));

    /// <summary>True when <see cref="Tag"/> is the implied <c>latest</c> rather than written.</summary>
    public bool TagImplied { get; }

    /// <summary>The content digest (<c>sha256:&lt;hex&gt;</c>) if pinned; when present it, not the tag, identifies the content.</summary>
    public string? Digest => _digestLength < 0 ? null : (_digest ??= Normalized[^_digestLength..]);

    /// <summary><see cref="Registry"/> + "/" + <see cref="Repository"/>.</summary>
    public string Name => _name ??= Normalized[.._nameLength];

    /// <summary>Fully qualified form: <c>Name[:Tag][@Digest]</c>, e.g. <c>docker.io/library/nginx:latest</c>.</summary>
    public string Normalized { get; }

    /// <summary>Parses <paramref name="text"/>; never throws.</summary>
    public static bool TryParse(
        string? text,
        [NotNullWhen(true)] out ImageReference? reference,
        [NotNullWhen(false)] out string? error)
    {
        error = ImageReferenceParser.Parse(text, out var parts);
        if (error is not null)
        {
            reference = null;
            return false;
        }

        reference = Create(text!, parts);
        return true;
    }

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">The reference is malformed; the message is the reason.</exception>
    public static ImageReference Parse(string text) =>
        TryParse(text, out var reference, out var error) ? reference : throw new FormatException(error);

    /// <summary>Returns this reference pinned to <paramref name="digest"/>, keeping the tag (<c>name:tag@sha256:...</c>).</summary>
    /// <exception cref="FormatException"><paramref name="digest"/> is not a supported, well-formed digest.</exception>
    public ImageReference WithDigest(string digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        var error = ReferenceGrammar.ValidateDigest(digest);
        if (error is not null)
        {
            throw new FormatException(error);
        }

        var withoutDigest = _digestLength < 0 ? Normalized : Normalized[..(Normalized.Length - _digestLength - 1)];
        var normalized = string.Concat(withoutDigest, "@", digest);
        return new ImageReference(normalized, normalized, _registryLength, _nameLength, _tagLength, digest.Length, TagImplied);
    }

    /// <inheritdoc />
    public bool Equals(ImageReference? other) =>
        other is not null && string.Equals(Normalized, other.Normalized, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ImageReference);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Normalized);

    /// <inheritdoc />
    public override string ToString() => Normalized;

    public static bool operator ==(ImageReference? left, ImageReference? right) =>
        left is null ? right is null : left.Equals(right);

    public static bool operator !=(ImageReference? left, ImageReference? right) => !(left == right);

    private static ImageReference Create(string text, in ImageReferenceParser.Parts parts)
    {
        var registryLength = parts.RegistryLength < 0 ? DockerHubRegistry.Length : parts.RegistryLength;
        var hasTag = parts.TagLength >= 0 || parts.DigestLength < 0;
        var tagLength = parts.TagLength >= 0 ? parts.TagLength : hasTag ? DefaultTag.Length : -1;
        var nameLength = registryLength + 1 + (parts.AddLibraryPrefix ? OfficialPrefix.Length : 0) + parts.PathLength;
        var length = nameLength + (hasTag ? 1 + tagLength : 0) + (parts.DigestLength < 0 ? 0 : 1 + parts.DigestLength);

        // Input that is already canonical (the common case for pinned images) is reused as is:
        // it names its registry, needs no "library/" and spells out a tag or digest.
        var canonical = !parts.AddLibraryPrefix
            && (parts.TagLength >= 0 || parts.DigestLength >= 0)
            && (parts.RegistryLength >= 0 || text.StartsWith(DockerHubRegistry + "/", StringComparison.Ordinal));
        var normalized = canonical ? text : string.Create(length, (text, parts), static (span, state) => Write(span, state.text, state.parts));
        return new ImageReference(
            text,
            normalized,
            registryLength,
            nameLength,
            tagLength,
            parts.DigestLength,
            tagImplied: parts.TagLength < 0 && parts.DigestLength < 0);
    }

    private static void Write(Span<char> destination, string text, ImageReferenceParser.Parts parts)
    {
        var src = text.AsSpan();
        var pos = 0;
        Append(destination, ref pos, parts.RegistryLength < 0 ? DockerHubRegistry : src.Slice(parts.RegistryStart, parts.RegistryLength));
        destination[pos++] = '/';
        if (parts.AddLibraryPrefix)
        {
            Append(destination, ref pos, OfficialPrefix);
        }

        Append(destination, ref pos, src.Slice(parts.PathStart, parts.PathLength));
        if (parts.TagLength >= 0)
        {
            destination[pos++] = ':';
            Append(destination, ref pos, src.Slice(parts.TagStart, parts.TagLength));
        }
        else if (parts.DigestLength < 0)
        {
            destination[pos++] = ':';
            Append(destination, ref pos, DefaultTag);
        }

        if (parts.DigestLength >= 0)
        {
            destination[pos++] = '@';
            Append(destination, ref pos, src.Slice(parts.DigestStart, parts.DigestLength));
        }

        Debug.Assert(pos == destination.Length, "normalized length was computed from the same parts");
    }

    private static void Append(Span<char> destination, ref int pos, ReadOnlySpan<char> value)
    {
        value.CopyTo(destination[pos..]);
        pos += value.Length;
    }
}
