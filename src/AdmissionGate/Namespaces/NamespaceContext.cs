using AdmissionGate.Policy;

namespace AdmissionGate.Namespaces;

/// <summary>What the gate knows about the namespace of a request: its tier, and why.</summary>
public sealed record NamespaceContext(string Name, Tier Tier, string TierSource, bool Exempt, string? Warning);

/// <summary>
/// Where namespace labels come from: the API server's namespace informer in a cluster, flags offline. Returns false
/// when the namespace is unknown, so tier resolution falls back to the policy's name rules.
/// </summary>
public interface INamespaceLabelSource
{
    bool TryGetLabels(string @namespace, out IReadOnlyDictionary<string, string>? labels);
}

/// <summary>No cluster: every namespace is judged by the policy's name rules.</summary>
public sealed class NoNamespaceLabels : INamespaceLabelSource
{
    public static readonly NoNamespaceLabels Instance = new();

    public bool TryGetLabels(string @namespace, out IReadOnlyDictionary<string, string>? labels)
    {
        labels = null;
        return false;
    }
}

public static class TierResolver
{
    public static NamespaceContext Resolve(CompiledPolicy policy, string @namespace, IReadOnlyDictionary<string, string>? labels)
    {
        var rules = policy.Namespaces;
        var exempt = NamespacePattern.AnyMatches(rules.Exempt, @namespace);
        if (labels is not null && labels.TryGetValue(rules.TierLabel, out var value))
        {
            if (PolicyText.TryParseTier(value, out var labelled))
            {
                return new NamespaceContext(@namespace, labelled, $"label {rules.TierLabel}={value}", exempt, null);
            }

            // A typo in the label must not make a namespace laxer than intended: treat it as the strictest tier.
            return new NamespaceContext(@namespace, Tier.Production, $"label {rules.TierLabel}={value} (not a tier)", exempt,
                $"namespace {@namespace} has {rules.TierLabel}=\"{value}\", which is not dev, staging or production; it is judged as production");
        }

        for (var i = 0; i < rules.TierByName.Count; i++)
        {
            var (tier, names) = rules.TierByName[i];
            if (NamespacePattern.AnyMatches(names, @namespace))
            {
                return new NamespaceContext(@namespace, tier, "namespace name rule", exempt, null);
            }
        }

        return new NamespaceContext(@namespace, rules.DefaultTier, "default tier", exempt, null);
    }
}
