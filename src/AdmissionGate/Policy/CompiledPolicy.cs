using AdmissionGate.Images;
using AdmissionGate.Registry;

namespace AdmissionGate.Policy;

/// <summary>
/// An immutable, pre-compiled policy snapshot. Requests read it without locks; a reload swaps the whole snapshot.
/// </summary>
public sealed class CompiledPolicy
{
    public required string Name { get; init; }

    /// <summary>Where the policy came from (a file path, or <c>embedded:default</c>).</summary>
    public required string Source { get; init; }

    /// <summary>SHA-256 of the policy text, so decisions and reloads can name the exact policy they used.</summary>
    public required string Hash { get; init; }

    public required NamespaceRules Namespaces { get; init; }

    public required IReadOnlyDictionary<Tier, TierPolicy> Tiers { get; init; }

    public required IReadOnlyList<RegistryGrant> Grants { get; init; }

    public required IReadOnlyList<PolicyException> Exceptions { get; init; }

    /// <summary><c>spec.blocked</c>: denied in every tier, never waived by an exception.</summary>
    public IReadOnlyList<BlockedEntry> Blocked { get; init; } = [];

    /// <summary>Connection settings per canonical registry name (<c>spec.registries</c>).</summary>
    public IReadOnlyDictionary<string, RegistrySettings> Registries { get; init; } = new Dictionary<string, RegistrySettings>();

    public VerificationSettings Verification { get; init; } = VerificationSettings.Default;

    /// <summary>Where vulnerability scan evidence comes from (<c>spec.scans</c>).</summary>
    public ScanSettings Scans { get; init; } = ScanSettings.Default;

    private IReadOnlyDictionary<string, string[]>? _mirrored;
    private (RegistryEndpoint Mirror, string Registry)[]? _rewrites;

    /// <summary>The mirrors reads of <paramref name="registry"/> go through, in order (empty: the registry alone).</summary>
    public IReadOnlyList<RegistryEndpoint> MirrorsOf(string registry) =>
        Registries.TryGetValue(registry, out var settings) ? settings.Mirrors : [];

    /// <summary>
    /// Whether <paramref name="host"/> is a mirror of a registry <paramref name="tier"/> approves: the gate may read
    /// through it (and follow its redirects and token realm), though images naming it are not thereby approved.
    /// </summary>
    public bool MirrorsApprovedRegistry(TierPolicy tier, string host)
    {
        _mirrored ??= Registries
            .SelectMany(r => r.Value.Mirrors.Select(m => (Mirror: m.Registry, Upstream: r.Key)))
            .GroupBy(p => p.Mirror, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Select(p => p.Upstream).ToArray(), StringComparer.OrdinalIgnoreCase);
        return _mirrored.TryGetValue(host, out var upstreams) && upstreams.Any(tier.ApprovesRegistry);
    }

    /// <summary>
    /// The registry's image that a mirror reference written by the <c>rewrite</c> mutation stands for: only a
    /// digest-pinned reference, only under a mirror of a registry with <c>rewrite: true</c>. Null otherwise, so a
    /// mirror named any other way is judged as the registry it is.
    /// </summary>
    public ImageReference? RewrittenFrom(ImageReference image)
    {
        // Asked for every pinned image of every request: computed once, and empty (no work) without rewrites.
        var rewrites = _rewrites ??= [.. Registries.Where(r => r.Value.Rewrite).SelectMany(r => r.Value.Mirrors.Select(m => (m, r.Key)))];
        if (rewrites.Length == 0 || image.Digest is not { } digest)
        {
            return null;
        }

        foreach (var (mirror, registry) in rewrites)
        {
            if (mirror.Registry == image.Registry && mirror.UpstreamRepositoryOf(image.Repository) is { } repository)
            {
                return ImageReference.TryParse($"{registry}/{repository}@{digest}", out var upstream, out _) ? upstream : null;
            }
        }

        return null;
    }
}

public sealed class NamespaceRules
{
    public required string TierLabel { get; init; }

    public required IReadOnlyList<(Tier Tier, IReadOnlyList<NamespacePattern> Names)> TierByName { get; init; }

    public required Tier DefaultTier { get; init; }

    public required IReadOnlyList<NamespacePattern> Exempt { get; init; }
}

public sealed class TierPolicy
{
    public required Tier Tier { get; init; }

    public required EnforcementMode Mode { get; init; }

    public required IReadOnlyList<ApprovedRegistry> Approved { get; init; }

    public required IReadOnlyList<(ImagePattern Match, EnforcementMode Mode)> Unapproved { get; init; }

    /// <summary>The approved prefixes as one readable list, for the "how to fix" part of a denial.</summary>
    public required string ApprovedSummary { get; init; }

    public IReadOnlyList<SignatureRule> Signatures { get; init; } = [];

    /// <summary>Images must carry a digest; the mutating webhook pins tags.</summary>
    public bool RequirePinning { get; init; }

    /// <summary>The tier's vulnerability gate; null when the tier does not judge vulnerabilities.</summary>
    public VulnerabilityPolicy? Vulnerabilities { get; init; }

    /// <summary>What an imagePullSecret the gate did not create does; independent of <see cref="Mode"/>.</summary>
    public ManualPullSecretAction ManualPullSecrets { get; init; }

    private IReadOnlySet<string>? _approvedHosts;

    /// <summary>
    /// Whether some approved entry names this (canonical) registry host: the only hosts the gate may contact for the
    /// tier. Computed once per compiled tier, since every registry call of every request asks.
    /// </summary>
    public bool ApprovesRegistry(string registry) =>
        (_approvedHosts ??= Approved.Where(a => a.Pattern.Host is not null)
            .Select(a => RegistryName.Canonicalize(a.Pattern.Host!))
            .ToHashSet(StringComparer.OrdinalIgnoreCase)).Contains(registry);

    public ApprovedRegistry? FindApproved(ImageReference image)
    {
        // The most specific (longest) matching prefix wins, so a warning on docker.io/library/ is not hidden by a
        // plain docker.io entry listed earlier, or the other way round.
        ApprovedRegistry? best = null;
        for (var i = 0; i < Approved.Count; i++)
        {
            var entry = Approved[i];
            if (entry.Pattern.Matches(image) && (best is null || Specificity(entry.Pattern) > Specificity(best.Pattern)))
            {
                best = entry;
            }
        }

        return best;
    }

    public EnforcementMode ModeForUnapproved(ImageReference? image)
    {
        for (var i = 0; i < Unapproved.Count; i++)
        {
            var (match, mode) = Unapproved[i];
            if (image is null ? match.MatchesEverything : match.Matches(image))
            {
                return mode;
            }
        }

        return Mode;
    }

    private static int Specificity(ImagePattern pattern) =>
        pattern.Host is null ? 0 : pattern.Host.Length + 1 + (pattern.RepositoryPrefix?.Length ?? 0);
}

public sealed record ApprovedRegistry(ImagePattern Pattern, string? Warning);

public sealed record RegistryGrant(ImagePattern Registry, IReadOnlyList<NamespacePattern> Namespaces, string? Reason)
{
    /// <summary>The first instant at which the grant no longer grants; null for a grant without <c>expires</c>.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The expiry as written in the policy, for messages.</summary>
    public string? ExpiresText { get; init; }

    public bool IsExpired(DateTimeOffset now) => now >= ExpiresAt;
}

/// <summary>A time-bound waiver of some rules for some namespaces and images.</summary>
public sealed class PolicyException
{
    public required string Name { get; init; }

    public required string Reason { get; init; }

    public required string Owner { get; init; }

    /// <summary>The first instant at which the exception no longer applies.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>The expiry as written in the policy, for messages.</summary>
    public required string ExpiresText { get; init; }

    public required IReadOnlySet<string> Rules { get; init; }

    /// <summary>Namespaces it covers; null means every namespace.</summary>
    public IReadOnlyList<NamespacePattern>? Namespaces { get; init; }

    /// <summary>Images it covers; null means every image.</summary>
    public IReadOnlyList<ImagePattern>? Images { get; init; }

    /// <summary>
    /// Vulnerability IDs (CVE-…, GHSA-…) it suppresses, one by one, for the <c>vulnerability</c> rule; null means it
    /// waives the <c>vulnerability</c> rule as a whole (if listed in <see cref="Rules"/>).
    /// </summary>
    public IReadOnlySet<string>? Vulnerabilities { get; init; }

    public bool IsExpired(DateTimeOffset now) => now >= ExpiresAt;

    /// <summary>Whether it waives a whole finding of <paramref name="rule"/>. A CVE list never waives a whole finding.</summary>
    public bool Covers(string rule, string @namespace, ImageReference? image) =>
        Rules.Contains(rule)
        && (rule != RuleNames.Vulnerability || Vulnerabilities is null)
        && Applies(@namespace, image);

    /// <summary>Whether it suppresses the one vulnerability <paramref name="id"/> (expiry not considered).</summary>
    public bool CoversVulnerability(string id, string @namespace, ImageReference? image) =>
        Vulnerabilities is not null && Rules.Contains(RuleNames.Vulnerability) && Vulnerabilities.Contains(id) && Applies(@namespace, image);

    public string Describe() => Vulnerabilities is { Count: > 0 } ids
        ? $"exception \"{Name}\" for {string.Join(", ", ids.Order(StringComparer.OrdinalIgnoreCase))} (owner {Owner}, expires {ExpiresText}: {Reason})"
        : $"exception \"{Name}\" (owner {Owner}, expires {ExpiresText}: {Reason})";

    private bool Applies(string @namespace, ImageReference? image) =>
        (Namespaces is null || NamespacePattern.AnyMatches(Namespaces, @namespace))
        && (Images is null || (image is not null && Images.Any(pattern => pattern.Matches(image))));
}
