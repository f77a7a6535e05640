using System.Text.RegularExpressions;

namespace AdmissionGate.Credentials;

/// <summary>
/// What a stored credential is for: a registry host (<c>harbor.corp</c>, every repository on it) or a registry and a
/// repository prefix (<c>harbor.corp/team-a/</c>, the repositories under <c>team-a</c>), as Harbor robot accounts
/// are scoped to projects. <see cref="Key"/> is the store's entry key and the Secret's <c>auths</c> key.
/// </summary>
/// <remarks>
/// The key of a host-wide entry is the host exactly as before prefixes existed, so stores written then read
/// unchanged. A prefix key always ends in '/', so <c>harbor.corp/team-a</c> and <c>harbor.corp/team-a/</c> are one
/// entry; the kubelet matches an <c>auths</c> key by string prefix of the image path, and the trailing '/' keeps
/// <c>team-a/</c> from also matching <c>team-ab/</c> there.
/// </remarks>
public sealed partial class CredentialScope : IEquatable<CredentialScope>
{
    private const int MaxPrefixLength = 255;
    private static readonly string[] DockerHubAliases = ["docker.io", "index.docker.io", "registry-1.docker.io"];

    private CredentialScope(string host, string[] segments)
    {
        Host = host;
        Segments = segments;
        Key = segments.Length == 0 ? host : host + "/" + string.Join('/', segments) + "/";
    }

    /// <summary>The canonical entry key: <c>host[:port]</c> or <c>host[:port]/prefix/</c>.</summary>
    public string Key { get; }

    /// <summary>The registry host (lower case, with port if any), as <see cref="RegistryHost"/> normalises it.</summary>
    public string Host { get; }

    /// <summary>The repository path segments the credential is limited to; empty for a host-wide credential.</summary>
    public IReadOnlyList<string> Segments { get; }

    public bool IsHostWide => Segments.Count == 0;

    /// <summary>Returns the canonical key or throws <see cref="CredentialInputException"/> saying what is wrong.</summary>
    public static CredentialScope Parse(string? value) =>
        TryParse(value, out var scope, out var error) ? scope : throw new CredentialInputException(error);

    public static bool TryParse(string? value, out CredentialScope scope, out string error)
    {
        scope = null!;
        var slash = value?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (slash < 0 || value!.Contains("://", StringComparison.Ordinal))
        {
            // No path: exactly the host-only keys of old. A scheme is refused by the host rule with its own message.
            if (!RegistryHost.TryNormalize(value, out var host, out error))
            {
                return false;
            }

            scope = new CredentialScope(host, []);
            return true;
        }

        if (!RegistryHost.TryNormalize(value[..slash], out var registry, out error))
        {
            return false;
        }

        var prefix = value[(slash + 1)..];
        var shown = value.Length > 80 ? value[..80] + "..." : value;
        var segments = prefix.EndsWith('/') ? prefix[..^1].Split('/') : prefix.Split('/');
        if (prefix.Length > MaxPrefixLength || (prefix.Length > 0 && segments.Any(s => !PathComponent().IsMatch(s))))
        {
            error = $"registry '{shown}' has an invalid repository prefix: path segments are lower-case letters and digits joined by ., _, __ or dashes, e.g. harbor.corp/team-a/";
            return false;
        }

        scope = new CredentialScope(registry, prefix.Length == 0 ? [] : segments);
        error = string.Empty;
        return true;
    }

    /// <summary>
    /// Whether this credential is meant for <paramref name="repository"/> on <paramref name="registry"/> (canonical,
    /// <c>docker.io</c> for Docker Hub, which a key may name by any of its host names). Prefixes match whole path
    /// segments: <c>team-a/</c> covers <c>team-a/x</c> and <c>team-a/x/y</c>, never <c>team-ab/x</c>, and not the
    /// repository <c>team-a</c> itself (as a policy pattern with a trailing '/', and as the kubelet reads the key).
    /// </summary>
    public bool Covers(string registry, string repository)
    {
        if (!IsOn(registry))
        {
            return false;
        }

        var rest = repository.AsSpan();
        foreach (var segment in Segments)
        {
            if (!rest.StartsWith(segment, StringComparison.Ordinal))
            {
                return false;
            }

            rest = rest[segment.Length..];
            if (rest.IsEmpty || rest[0] != '/')
            {
                return false;
            }

            rest = rest[1..];
        }

        return true;
    }

    /// <summary>Whether the credential is for <paramref name="registry"/> (canonical; Docker Hub under any of its host names).</summary>
    public bool IsOn(string registry) =>
        string.Equals(Host, registry, StringComparison.OrdinalIgnoreCase)
        || (registry == DockerHubAliases[0] && DockerHubAliases.Contains(Host, StringComparer.Ordinal));

    public bool Equals(CredentialScope? other) => other is not null && string.Equals(Key, other.Key, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as CredentialScope);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Key);

    public override string ToString() => Key;

    // The distribution spec's path-component grammar: a prefix can only name what a repository name can contain.
    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex PathComponent();
}
