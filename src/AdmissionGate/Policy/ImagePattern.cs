using AdmissionGate.Images;

namespace AdmissionGate.Policy;

/// <summary>
/// A registry host with an optional repository prefix, matched on whole path components of a normalised reference,
/// so that <c>ghcr.io/acme/</c> matches <c>ghcr.io/acme/app</c> but never <c>ghcr.io/acme-evil/app</c>.
/// </summary>
public sealed class ImagePattern
{
    private ImagePattern(string text, string? host, string? repositoryPrefix, bool childrenOnly)
    {
        Text = text;
        Host = host;
        RepositoryPrefix = repositoryPrefix;
        ChildrenOnly = childrenOnly;
    }

    /// <summary>The pattern as written in the policy.</summary>
    public string Text { get; }

    /// <summary>The registry host (with port), or null for the catch-all <c>*</c>.</summary>
    public string? Host { get; }

    /// <summary>The repository prefix without a trailing slash, or null when the whole registry matches.</summary>
    public string? RepositoryPrefix { get; }

    /// <summary>
    /// A trailing slash (<c>ghcr.io/acme/</c>) means "repositories under acme", not the repository <c>acme</c> itself.
    /// </summary>
    public bool ChildrenOnly { get; }

    public bool MatchesEverything => Host is null;

    public static bool TryParse(string text, out ImagePattern? pattern, out string? error)
    {
        pattern = null;
        error = null;
        if (text == "*")
        {
            pattern = new ImagePattern(text, null, null, false);
            return true;
        }

        var trimmed = text.TrimEnd('/');
        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        var host = (slash < 0 ? trimmed : trimmed[..slash]).ToLowerInvariant();
        var prefix = slash < 0 ? null : trimmed[(slash + 1)..];
        if (host == "index.docker.io" || host == "registry-1.docker.io")
        {
            host = "docker.io";
        }

        if (host.Length == 0 || !(host.Contains('.', StringComparison.Ordinal) || host.Contains(':', StringComparison.Ordinal) || host == "localhost"))
        {
            error = $"\"{text}\" must start with a registry host (e.g. \"docker.io/library/\" rather than \"library/\")";
            return false;
        }

        // Reuse the reference grammar so a pattern can only name things an image reference can name.
        // The trailing "/probe" keeps Docker Hub's library/ normalisation from rewriting the prefix itself.
        var probe = host + "/" + (prefix is null ? string.Empty : prefix + "/") + "probe";
        if (!ImageReference.TryParse(probe, out var parsed, out var reason) || parsed.Registry != host)
        {
            error = $"\"{text}\" is not a valid registry/repository prefix: {reason ?? "invalid registry host"}";
            return false;
        }

        pattern = new ImagePattern(text, host, prefix is null ? null : parsed.Repository[..^"/probe".Length], prefix is not null && text.EndsWith('/'));
        return true;
    }

    public static ImagePattern Parse(string text) =>
        TryParse(text, out var pattern, out var error) ? pattern! : throw new FormatException(error);

    public bool Matches(ImageReference image)
    {
        if (Host is null)
        {
            return true;
        }

        // Compared as slices of the normalised reference: materialising Registry and Repository cost two strings
        // per image on every request.
        if (!image.RegistrySpan.Equals(Host, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (RepositoryPrefix is null)
        {
            return true;
        }

        var repository = image.RepositorySpan;
        return repository.Length == RepositoryPrefix.Length
            ? !ChildrenOnly && repository.SequenceEqual(RepositoryPrefix)
            : repository.Length > RepositoryPrefix.Length
              && repository[RepositoryPrefix.Length] == '/'
              && repository.StartsWith(RepositoryPrefix, StringComparison.Ordinal);
    }

    public override string ToString() => Text;
}
