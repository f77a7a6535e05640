using AdmissionGate.Registry;
using AdmissionGate.Sigstore;

namespace AdmissionGate.Policy;

/// <summary>A tier's signature requirement for the images its patterns match.</summary>
public sealed class SignatureRule
{
    public required string Name { get; init; }

    public required IReadOnlyList<ImagePattern> Images { get; init; }

    public required EnforcementMode Mode { get; init; }

    /// <summary>True: every authority must verify (allOf); false: one is enough (anyOf).</summary>
    public required bool RequireAll { get; init; }

    public required IReadOnlyList<SignatureAuthority> Authorities { get; init; }

    /// <summary>Where signatures live when not next to the image (registry, repository).</summary>
    public (string Registry, string Repository)? SignatureRepository { get; init; }

    /// <summary>Identifies the rule's verification inputs, so cached results never outlive a policy change.</summary>
    public required string Fingerprint { get; init; }
}

/// <summary>One party whose signature counts: a public key, or a keyless (Fulcio) identity.</summary>
public sealed class SignatureAuthority
{
    public required string Name { get; init; }

    public required VerificationPolicy Policy { get; init; }

    /// <summary>The trust root for logs, CAs and timestamp authorities; loading may fail (reported at verification).</summary>
    public required Lazy<TrustedRoot> TrustRoot { get; init; }

    public required string Fingerprint { get; init; }
}

/// <summary>Cache lifetimes and the time budget of signature verification (<c>spec.verification</c>).</summary>
public sealed record VerificationSettings
{
    public static readonly VerificationSettings Default = new();

    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromMinutes(10);

    public TimeSpan NegativeCacheTtl { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan TagCacheTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long after expiry a positive result is still honoured while the registry is unreachable.</summary>
    public TimeSpan StaleWindow { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Per admission decision; must stay below the webhook timeout.</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromSeconds(8);
}

/// <summary>Connection settings for one registry from <c>spec.registries</c>.</summary>
public sealed record RegistrySettings(RegistryOptions Options, string? DockerConfigPath)
{
    /// <summary><c>mirrors</c>: endpoints that serve this registry's reads, tried in order before the registry itself.</summary>
    public IReadOnlyList<RegistryEndpoint> Mirrors { get; init; } = [];

    /// <summary><c>rewrite</c>: the mutating webhook points verified images at the mirror that served them, pinned by digest.</summary>
    public bool Rewrite { get; init; }
}
