namespace AdmissionGate.Policy;

/// <summary>The environment tier of a namespace; ordered from least to most strict.</summary>
public enum Tier
{
    Dev,
    Staging,
    Production,
}

/// <summary>What a violation does in a tier.</summary>
public enum EnforcementMode
{
    /// <summary>Deny the request.</summary>
    Enforce,

    /// <summary>Admit with an AdmissionReview warning.</summary>
    Warn,

    /// <summary>Admit silently; record in metrics (and the audit trail) only.</summary>
    Audit,
}

/// <summary>Names of the rules a finding can come from; exceptions refer to them.</summary>
public static class RuleNames
{
    public const string ApprovedRegistry = "approved-registry";
    public const string RegistryGrant = "registry-grant";
    public const string ImageReference = "image-reference";
    public const string Signature = "signature";
    public const string Pinning = "pinning";
    public const string Vulnerability = "vulnerability";

    /// <summary><c>spec.blocked</c>; no exception can name it.</summary>
    public const string Blocked = "blocked";

    /// <summary>A registry's mirrors and the registry disagree on a tag's digest; no exception can name it.</summary>
    public const string MirrorDigest = "mirror-digest";

    /// <summary><c>tiers.*.manualPullSecrets</c>: an imagePullSecret the gate did not create.</summary>
    public const string ManualPullSecret = "manual-pull-secret";
}

/// <summary>What a tier does with imagePullSecrets the gate did not create (<c>tiers.*.manualPullSecrets</c>).</summary>
public enum ManualPullSecretAction
{
    Allow,
    Warn,
    Deny,
}

public static class PolicyText
{
    public static string Name(this Tier tier) => tier switch
    {
        Tier.Dev => "dev",
        Tier.Staging => "staging",
        Tier.Production => "production",
        _ => throw new ArgumentOutOfRangeException(nameof(tier)),
    };

    public static string Name(this EnforcementMode mode) => mode switch
    {
        EnforcementMode.Enforce => "enforce",
        EnforcementMode.Warn => "warn",
        EnforcementMode.Audit => "audit",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    public static bool TryParseTier(string? text, out Tier tier)
    {
        switch (text)
        {
            case "dev":
                tier = Tier.Dev;
                return true;
            case "staging":
                tier = Tier.Staging;
                return true;
            case "production":
                tier = Tier.Production;
                return true;
            default:
                tier = Tier.Production;
                return false;
        }
    }

    public static EnforcementMode ParseMode(string text) => text switch
    {
        "enforce" => EnforcementMode.Enforce,
        "warn" => EnforcementMode.Warn,
        "audit" => EnforcementMode.Audit,
        _ => throw new ArgumentOutOfRangeException(nameof(text), text, "unknown mode"),
    };
}
