namespace AdmissionGate.Registry;

/// <summary>Decides whether a registry may be contacted at all. Consulted before any DNS lookup or connection.</summary>
public interface IRegistryAccessPolicy
{
    /// <param name="registry">The canonical registry name (lower-case host[:port], <c>docker.io</c> for Docker Hub).</param>
    bool IsAllowed(string registry);
}

public static class RegistryAccessPolicy
{
    public static IRegistryAccessPolicy AllowAll { get; } = new PredicatePolicy(_ => true);

    public static IRegistryAccessPolicy FromPredicate(Func<string, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return new PredicatePolicy(predicate);
    }

    /// <summary>Allows exactly the listed registries (compared after canonicalisation).</summary>
    public static IRegistryAccessPolicy AllowOnly(IEnumerable<string> registries)
    {
        var set = registries.Select(RegistryName.Canonicalize).ToHashSet(StringComparer.Ordinal);
        return new PredicatePolicy(set.Contains);
    }

    /// <summary>Whether a URL a registry pointed at (redirect, token realm) is on an approved registry host; odd hosts are not.</summary>
    internal static bool AllowsHostOf(this IRegistryAccessPolicy policy, Uri target)
    {
        try
        {
            return policy.IsAllowed(RegistryName.Canonicalize(target.Authority));
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private sealed class PredicatePolicy(Func<string, bool> predicate) : IRegistryAccessPolicy
    {
        public bool IsAllowed(string registry) => predicate(registry);
    }
}
