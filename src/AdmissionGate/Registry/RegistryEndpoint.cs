namespace AdmissionGate.Registry;

/// <summary>
/// Where a registry's repositories are read: the registry itself, or a mirror (a pull-through cache such as a Harbor
/// proxy-cache project or an Artifactory remote), written <c>host[:port][/path/prefix]</c>. A repository
/// <c>team/app</c> of the registry is <c>path/prefix/team/app</c> on the mirror.
/// </summary>
public sealed record RegistryEndpoint(string Registry, string? PathPrefix = null)
{
    /// <summary>Whether this is a mirror rather than the registry the image names.</summary>
    public bool IsMirror { get; init; }

    /// <summary>The registry itself (no prefix).</summary>
    public static RegistryEndpoint Origin(string registry) => new(registry);

    /// <summary>Parses <c>host[:port][/path]</c>; throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public static RegistryEndpoint ParseMirror(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var host = RegistryName.Canonicalize(slash < 0 ? text : text[..slash]);
        var prefix = slash < 0 ? null : text[(slash + 1)..];
        if (prefix is not null)
        {
            // The prefix becomes part of every repository path, so it must be a repository name itself.
            RegistryName.ValidateRepository(prefix);
        }

        return new RegistryEndpoint(host, prefix) { IsMirror = true };
    }

    /// <summary>The repository's name on this endpoint.</summary>
    public string RepositoryFor(string repository) => PathPrefix is null ? repository : PathPrefix + "/" + repository;

    /// <summary>
    /// The registry's repository that <paramref name="repository"/> on this mirror stands for, or null when it is
    /// not under the mirror's prefix.
    /// </summary>
    public string? UpstreamRepositoryOf(string repository) =>
        PathPrefix is null ? repository
        : repository.StartsWith(PathPrefix + "/", StringComparison.Ordinal) ? repository[(PathPrefix.Length + 1)..]
        : null;

    public override string ToString() => PathPrefix is null ? Registry : Registry + "/" + PathPrefix;
}
