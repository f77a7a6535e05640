namespace AdmissionGate.Registry;

/// <summary>Connection settings for one registry. Bound from configuration/policy; defaults are safe for public registries.</summary>
public sealed record RegistryOptions
{
    public const long DefaultMaxManifestBytes = 4 * 1024 * 1024;
    public const long DefaultMaxBlobBytes = 64 * 1024 * 1024;

    /// <summary>Plain HTTP. Only for explicitly configured registries (loopback test registries, in-cluster mirrors).</summary>
    public bool Insecure { get; init; }

    /// <summary>PEM bundle of CA certificates; when set, the server chain must end in one of these (system roots are not used).</summary>
    public string? CaBundlePath { get; init; }

    /// <summary>Per attempt, covering headers and body. <see cref="Timeout.InfiniteTimeSpan"/> disables it.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries after the first attempt on 429, 5xx, timeouts and network errors.</summary>
    public int MaxRetries { get; init; } = 2;

    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Upper bound for any wait between attempts, including a server's Retry-After.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Requests in flight to this registry at once (including body transfer).</summary>
    public int MaxConcurrency { get; init; } = 8;

    public long MaxManifestBytes { get; init; } = DefaultMaxManifestBytes;

    /// <summary>Default cap for <see cref="IRegistryClient.GetBlobAsync"/> when the call passes none.</summary>
    public long MaxBlobBytes { get; init; } = DefaultMaxBlobBytes;

    internal void Validate(string registry)
    {
        static void Require(bool ok, string registry, string what)
        {
            if (!ok)
            {
                throw new ArgumentException($"Registry options for '{registry}': {what}.");
            }
        }

        Require(RequestTimeout == Timeout.InfiniteTimeSpan || RequestTimeout > TimeSpan.Zero, registry, "requestTimeout must be positive");
        Require(MaxRetries is >= 0 and <= 10, registry, "maxRetries must be between 0 and 10");
        Require(RetryBaseDelay >= TimeSpan.Zero && MaxRetryDelay >= TimeSpan.Zero, registry, "retry delays must not be negative");
        Require(MaxConcurrency is >= 1 and <= 1024, registry, "maxConcurrency must be between 1 and 1024");
        Require(MaxManifestBytes > 0 && MaxBlobBytes > 0, registry, "size caps must be positive");
        Require(CaBundlePath is null || File.Exists(CaBundlePath), registry, $"CA bundle '{CaBundlePath}' does not exist");
    }
}

/// <summary>Options for the whole client: defaults plus per-registry overrides keyed by registry name.</summary>
public sealed class RegistryClientOptions
{
    public RegistryOptions Defaults { get; init; } = new();

    /// <summary>Keys are registry names (host[:port]); Docker Hub aliases fold into <c>docker.io</c>.</summary>
    public IDictionary<string, RegistryOptions> Registries { get; init; } = new Dictionary<string, RegistryOptions>(StringComparer.OrdinalIgnoreCase);

    public string UserAgent { get; init; } = "admission-gate/0.1";

    /// <summary>
    /// How long a registry that answered the OCI referrers API with 404 is taken to lack it (lookups use the
    /// referrers tag schema without asking). Afterwards the API is probed again. <see cref="TimeSpan.Zero"/> probes every time.
    /// </summary>
    public TimeSpan ReferrersApiRecheckInterval { get; init; } = TimeSpan.FromMinutes(5);

    internal RegistryOptions For(string canonicalRegistry)
    {
        foreach (var (name, options) in Registries)
        {
            if (RegistryName.Canonicalize(name) == canonicalRegistry)
            {
                return options;
            }
        }

        return Defaults;
    }
}
