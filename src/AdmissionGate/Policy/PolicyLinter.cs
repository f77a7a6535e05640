using System.Text.Json.Nodes;
using AdmissionGate.Yaml;

namespace AdmissionGate.Policy;

/// <summary>A policy that is valid but falls short of the registry-governance mandates, with where it does.</summary>
public sealed record PolicyWarning(string Source, SourcePosition Position, string Pointer, string Message)
{
    public override string ToString() => $"{Source}:{Position.Line}:{Position.Column}: warning: {Pointer}: {Message}";
}

/// <summary>
/// <c>policy lint</c>: what a valid policy still lets through against the registry-governance mandates. Public
/// registries approved where only internal ones belong, production without signatures or without fail-closed scans,
/// grants and exceptions that never expire. Positions are the YAML marks of the offending value, as validation's.
/// </summary>
public static class PolicyLinter
{
    /// <summary>Registries anyone can push to; the mandates keep them out of staging and production.</summary>
    public static readonly IReadOnlyList<string> PublicRegistries = ["docker.io", "ghcr.io", "quay.io", "gcr.io", "public.ecr.aws", "mcr.microsoft.com"];

    /// <summary>An expiry further away than this is a waiver nobody will revisit: it counts as never expiring.</summary>
    public static readonly TimeSpan LongestExpiry = TimeSpan.FromDays(366);

    private static readonly Tier[] GovernedTiers = [Tier.Staging, Tier.Production];

    /// <summary>Validates <paramref name="text"/> like the loader (throws <see cref="PolicyLoadException"/>), then lints it.</summary>
    public static IReadOnlyList<PolicyWarning> Lint(string text, string source, DateTimeOffset now)
    {
        var policy = PolicyLoader.LoadText(text, source);
        var document = YamlToJson.ParseSingle(text);
        var warnings = new List<PolicyWarning>();
        void Warn(string pointer, string message) => warnings.Add(new PolicyWarning(source, document.PositionOf(pointer), pointer, message));

        var tiers = document.Root?["spec"]?["tiers"];
        foreach (var tier in GovernedTiers)
        {
            var pointer = "/spec/tiers/" + tier.Name();
            var compiled = policy.Tiers[tier];
            for (var i = 0; i < compiled.Approved.Count; i++)
            {
                var pattern = compiled.Approved[i].Pattern;
                if (IsPublic(pattern))
                {
                    var entry = tiers?[tier.Name()]?["approved"]?[i] is JsonObject ? $"{pointer}/approved/{i}/prefix" : $"{pointer}/approved/{i}";
                    Warn(entry, $"public registry {pattern.Host} is approved in tier {tier.Name()} (\"{pattern.Text}\"); mirror the images to an internal registry and approve that instead");
                }
            }

            for (var i = 0; i < compiled.Unapproved.Count; i++)
            {
                var (match, mode) = compiled.Unapproved[i];
                if (mode != EnforcementMode.Enforce && (match.MatchesEverything || IsPublic(match)))
                {
                    Warn($"{pointer}/unapproved/{i}/mode", $"unapproved images matching \"{match.Text}\" are admitted ({mode.Name()}) in tier {tier.Name()}, which lets public registries in; use mode enforce");
                }
            }
        }

        var production = policy.Tiers[Tier.Production];
        if (production.Signatures.Count == 0)
        {
            Warn("/spec/tiers/production", "production has no signature rule; add one naming the release pipeline's identity or key (tiers.production.signatures)");
        }

        if (production.Vulnerabilities is null)
        {
            Warn("/spec/tiers/production", "production has no vulnerability gate, so unscanned images are admitted; add tiers.production.vulnerabilities with missingScan: deny");
        }
        else if (production.Vulnerabilities.MissingScan != VulnerabilityAction.Deny)
        {
            Warn("/spec/tiers/production/vulnerabilities/missingScan", $"missingScan is {production.Vulnerabilities.MissingScan.Name()} in production, so unscanned or stale images are admitted; set it to deny");
        }

        for (var i = 0; i < policy.Grants.Count; i++)
        {
            var grant = policy.Grants[i];
            if (grant.ExpiresAt is not { } expires)
            {
                Warn($"/spec/grants/{i}", $"the grant of {grant.Registry.Text} never expires; add expires: YYYY-MM-DD so access is reviewed");
            }
            else if (expires - now > LongestExpiry)
            {
                Warn($"/spec/grants/{i}/expires", $"the grant of {grant.Registry.Text} expires {grant.ExpiresText}, more than {LongestExpiry.TotalDays:0} days away: in effect it never expires");
            }
        }

        for (var i = 0; i < policy.Exceptions.Count; i++)
        {
            var exception = policy.Exceptions[i];
            if (exception.ExpiresAt - now > LongestExpiry)
            {
                Warn($"/spec/exceptions/{i}/expires", $"exception \"{exception.Name}\" expires {exception.ExpiresText}, more than {LongestExpiry.TotalDays:0} days away: in effect it never expires");
            }
        }

        // In file order, as an editor lists them.
        return [.. warnings.OrderBy(w => w.Position.Line).ThenBy(w => w.Position.Column)];
    }

    private static bool IsPublic(ImagePattern pattern) =>
        pattern.Host is { } host && PublicRegistries.Any(p => host == p || host.EndsWith("." + p, StringComparison.Ordinal));
}
