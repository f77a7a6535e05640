using AdmissionGate.Images;

namespace AdmissionGate.Policy;

/// <summary>
/// One <c>spec.blocked</c> entry: a registry, a repository prefix, or a content digest (in one repository, or in any)
/// that no tier admits and no exception waives. Incident containment: listing an entry takes effect on reload.
/// </summary>
public sealed class BlockedEntry
{
    private BlockedEntry(string text, ImagePattern? pattern, string? registry, string? repository, string? digest, string reason, string owner)
    {
        Text = text;
        Pattern = pattern;
        Registry = registry;
        Repository = repository;
        Digest = digest;
        Reason = reason;
        Owner = owner;
    }

    /// <summary>The entry as written in the policy; the metric label and the audit event name it so.</summary>
    public string Text { get; }

    /// <summary>Registry or repository prefix; null for digest entries.</summary>
    public ImagePattern? Pattern { get; }

    /// <summary>The one repository a <c>repo@sha256:…</c> entry blocks the digest in; null for a bare digest (any repository).</summary>
    public string? Registry { get; }

    public string? Repository { get; }

    /// <summary>The blocked content digest; null for registry and repository entries.</summary>
    public string? Digest { get; }

    public string Reason { get; }

    public string Owner { get; }

    public string Describe() => $"blocked entry \"{Text}\" (owner {Owner}: {Reason})";

    /// <summary>
    /// Parses <c>registry</c>, <c>registry/repo[/]</c> (prefix semantics of <see cref="ImagePattern"/>),
    /// <c>registry/repo@sha256:HEX</c> (that digest in that repository, after the reference normalisation the source
    /// check uses: <c>nginx@…</c> is <c>docker.io/library/nginx@…</c>) or a bare <c>sha256:HEX</c> (in any repository).
    /// </summary>
    public static bool TryParse(string text, string reason, string owner, out BlockedEntry? entry, out string? error)
    {
        entry = null;
        if (text.StartsWith("sha", StringComparison.Ordinal) && text.Contains(':', StringComparison.Ordinal) && !text.Contains('/', StringComparison.Ordinal))
        {
            error = ReferenceGrammar.ValidateDigest(text);
            if (error is null)
            {
                entry = new BlockedEntry(text, null, null, null, text, reason, owner);
            }

            return error is null;
        }

        if (text.Contains('@', StringComparison.Ordinal))
        {
            if (!ImageReference.TryParse(text, out var image, out var parseError))
            {
                error = $"\"{text}\" is not a valid repository@digest: {parseError}";
                return false;
            }

            if (image.Digest is null || image.Tag is not null)
            {
                error = $"\"{text}\" names a tag; a blocked digest is written repository@sha256:<hex>, without a tag";
                return false;
            }

            error = null;
            entry = new BlockedEntry(text, null, image.Registry, image.Repository, image.Digest, reason, owner);
            return true;
        }

        if (!ImagePattern.TryParse(text, out var pattern, out error) || pattern!.MatchesEverything)
        {
            error ??= "\"*\" would block every image; name a registry, a repository or a digest";
            return false;
        }

        entry = new BlockedEntry(text, pattern, null, null, null, reason, owner);
        return true;
    }

    /// <summary>
    /// Whether the entry blocks <paramref name="image"/>. Digest entries compare <paramref name="digest"/>: the
    /// reference's own digest, or the one its tag resolved to (null when neither is known).
    /// </summary>
    public bool Matches(ImageReference image, string? digest)
    {
        if (Pattern is not null)
        {
            return Pattern.Matches(image);
        }

        return digest is not null
            && string.Equals(digest, Digest, StringComparison.Ordinal)
            && (Registry is null || (string.Equals(image.Registry, Registry, StringComparison.OrdinalIgnoreCase) && string.Equals(image.Repository, Repository, StringComparison.Ordinal)));
    }

    /// <summary>Whether a tag reference can only be judged by resolving its digest: a digest entry that could apply to it.</summary>
    public bool NeedsDigestOf(ImageReference image) =>
        Digest is not null && (Registry is null || (string.Equals(image.Registry, Registry, StringComparison.OrdinalIgnoreCase) && string.Equals(image.Repository, Repository, StringComparison.Ordinal)));
}
