using System.Text;
using System.Text.Json;

namespace AdmissionGate.Registry;

/// <summary>
/// Reads credentials from a docker <c>config.json</c> (<c>auths.&lt;host&gt;.auth</c> as base64 user:password, or
/// <c>username</c>/<c>password</c>). The file is re-read when its modification time changes so a rotated
/// Kubernetes secret mount is picked up. Credential helpers (<c>credsStore</c>, <c>credHelpers</c>) are not supported.
/// </summary>
public sealed class DockerConfigCredentialProvider : IRegistryCredentialProvider
{
    private static readonly string[] DockerHubKeys =
        ["docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"];

    private readonly string path;
    private readonly Lock gate = new();
    private (DateTime Stamp, IReadOnlyDictionary<string, RegistryCredential> Entries)? cache;

    public DockerConfigCredentialProvider(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        this.path = path;
    }

    /// <remarks>Entries are per host: a path in a key is ignored, so <paramref name="repository"/> does not matter here.</remarks>
    public ValueTask<RegistryCredential?> GetAsync(string registry, string repository, CancellationToken cancellationToken)
    {
        var canonical = RegistryName.Canonicalize(registry);
        var entries = Load();
        entries.TryGetValue(canonical, out var credential);
        return ValueTask.FromResult(credential);
    }

    /// <summary>Parses a config.json document; keys are canonical registry names.</summary>
    internal static IReadOnlyDictionary<string, RegistryCredential> Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            // The parser's message can quote file content; keep only the position.
            throw new InvalidDataException($"Docker config '{source}' is not valid JSON (line {ex.LineNumber + 1}).");
        }

        using (document)
        {
            var result = new Dictionary<string, RegistryCredential>(StringComparer.Ordinal);
            if (document.RootElement.ValueKind != JsonValueKind.Object ||
                !document.RootElement.TryGetProperty("auths", out var auths))
            {
                return result;
            }

            if (auths.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"Docker config '{source}': 'auths' must be an object.");
            }

            foreach (var entry in auths.EnumerateObject())
            {
                var registry = NormalizeKey(entry.Name);
                if (registry is null || entry.Value.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var credential = ReadEntry(entry.Value, registry, source);
                if (credential is null)
                {
                    continue;
                }

                // An exact host key wins over the legacy Docker Hub URL form when both exist.
                if (!result.ContainsKey(registry) || !entry.Name.Contains("://", StringComparison.Ordinal))
                {
                    result[registry] = credential;
                }
            }

            return result;
        }
    }

    private IReadOnlyDictionary<string, RegistryCredential> Load()
    {
        DateTime stamp;
        try
        {
            stamp = File.GetLastWriteTimeUtc(path);
            if (!File.Exists(path))
            {
                return new Dictionary<string, RegistryCredential>();
            }
        }
        catch (IOException)
        {
            return new Dictionary<string, RegistryCredential>();
        }

        lock (gate)
        {
            if (cache is { } cached && cached.Stamp == stamp)
            {
                return cached.Entries;
            }

            var entries = Parse(File.ReadAllText(path), path);
            cache = (stamp, entries);
            return entries;
        }
    }

    private static RegistryCredential? ReadEntry(JsonElement value, string registry, string source)
    {
        if (value.TryGetProperty("auth", out var auth) && auth.ValueKind == JsonValueKind.String &&
            auth.GetString() is { Length: > 0 } encoded)
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            }
            catch (FormatException)
            {
                throw new InvalidDataException($"Docker config '{source}': the auth entry for '{registry}' is not valid base64.");
            }

            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new InvalidDataException($"Docker config '{source}': the auth entry for '{registry}' is not 'user:password'.");
            }

            return new RegistryCredential(decoded[..colon], decoded[(colon + 1)..]);
        }

        if (value.TryGetProperty("username", out var user) && user.ValueKind == JsonValueKind.String &&
            user.GetString() is { Length: > 0 } username &&
            value.TryGetProperty("password", out var pass) && pass.ValueKind == JsonValueKind.String)
        {
            if (username.Contains(':', StringComparison.Ordinal))
            {
                throw new InvalidDataException($"Docker config '{source}': the username for '{registry}' contains ':'.");
            }

            return new RegistryCredential(username, pass.GetString() ?? string.Empty);
        }

        return null;
    }

    // Keys may be "host", "host:port", "https://host/", "http://host/v1/"...
    private static string? NormalizeKey(string key)
    {
        if (DockerHubKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
        {
            return RegistryName.DockerHub;
        }

        var host = key;
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            host = host[(scheme + 3)..];
        }

        var slash = host.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            host = host[..slash];
        }

        try
        {
            return RegistryName.Canonicalize(host);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
