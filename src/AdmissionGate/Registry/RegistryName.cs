using System.Text.RegularExpressions;

namespace AdmissionGate.Registry;

/// <summary>
/// Validation and canonicalisation of registry hosts, repository names and tags. Everything that ends up in a URL
/// path goes through here, so a hostile image reference cannot smuggle path segments or query strings.
/// </summary>
public static partial class RegistryName
{
    public const string DockerHub = "docker.io";
    internal const string DockerHubApiHost = "registry-1.docker.io";

    /// <summary>Lower-cases the host and folds the Docker Hub aliases into <c>docker.io</c>.</summary>
    public static string Canonicalize(string registry)
    {
        ValidateRegistry(registry);
        var lower = registry.ToLowerInvariant();
        return lower is "index.docker.io" or DockerHubApiHost ? DockerHub : lower;
    }

    /// <summary>The host[:port] that API calls go to (Docker Hub is served from registry-1.docker.io).</summary>
    internal static string ApiHost(string canonicalRegistry) =>
        canonicalRegistry == DockerHub ? DockerHubApiHost : canonicalRegistry;

    /// <summary>Docker Hub's official images live under <c>library/</c>.</summary>
    public static string CanonicalizeRepository(string canonicalRegistry, string repository)
    {
        ValidateRepository(repository);
        return canonicalRegistry == DockerHub && !repository.Contains('/', StringComparison.Ordinal)
            ? "library/" + repository
            : repository;
    }

    public static void ValidateRegistry(string? registry)
    {
        if (string.IsNullOrWhiteSpace(registry) || registry.Length > 255 || !RegistryPattern().IsMatch(registry))
        {
            throw new ArgumentException(
                $"'{OciDigest.Describe(registry)}' is not a valid registry host (expected host or host:port).", nameof(registry));
        }
    }

    public static void ValidateRepository(string? repository)
    {
        if (string.IsNullOrEmpty(repository) || repository.Length > 255 || !RepositoryPattern().IsMatch(repository))
        {
            throw new ArgumentException(
                $"'{OciDigest.Describe(repository)}' is not a valid repository name.", nameof(repository));
        }
    }

    public static bool IsValidTag(string? tag) => !string.IsNullOrEmpty(tag) && TagPattern().IsMatch(tag);

    public static void ValidateTag(string? tag)
    {
        if (!IsValidTag(tag))
        {
            throw new ArgumentException($"'{OciDigest.Describe(tag)}' is not a valid tag.", nameof(tag));
        }
    }

    /// <summary>A manifest reference is a tag or a digest.</summary>
    public static void ValidateReference(string? reference)
    {
        if (!IsValidTag(reference) && !OciDigest.IsValid(reference))
        {
            throw new ArgumentException(
                $"'{OciDigest.Describe(reference)}' is neither a valid tag nor a valid digest.", nameof(reference));
        }
    }

    // host name or IPv4 or bracketed IPv6, optional port.
    [GeneratedRegex(@"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?\z", RegexOptions.CultureInvariant)]
    private static partial Regex RegistryPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();
}
