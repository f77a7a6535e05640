namespace AdmissionGate.Credentials;

/// <summary>An image's place as far as credentials care: canonical registry (<c>docker.io</c> for Docker Hub) and repository.</summary>
public readonly record struct ImageLocation(string Registry, string Repository);

/// <summary>
/// Which stored credential pulls which image. One function for both users: the JIT mutation (all of a Pod's images,
/// the credentials the namespace may be given) and the registry client (one repository, every stored credential).
/// </summary>
/// <remarks>
/// Per registry: when one project credential (a repository prefix) covers every image of the set on that registry,
/// the longest such one is chosen for all of them (one Secret). Otherwise each image gets the longest credential
/// that covers it, host-wide included (one Secret per credential chosen). A host-wide entry is the registry's
/// fallback, never a competitor of a project credential: images <c>team-a/x</c> and <c>team-b/y</c> with
/// credentials <c>team-a/</c> and the host get <c>team-a/</c> for x and the host for y, not the host for both.
/// </remarks>
public static class CredentialChoice
{
    /// <summary>For each of <paramref name="images"/> (same order) the chosen credential, or null when none covers it.</summary>
    public static CredentialScope?[] Choose(IReadOnlyList<ImageLocation> images, IReadOnlyCollection<CredentialScope> candidates)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(candidates);
        var chosen = new CredentialScope?[images.Count];
        foreach (var registry in images.Select(i => i.Registry).Distinct(StringComparer.Ordinal))
        {
            var onRegistry = Enumerable.Range(0, images.Count).Where(i => images[i].Registry == registry).ToList();
            var forAll = Longest(
                candidates.Where(c => !c.IsHostWide && onRegistry.All(i => c.Covers(registry, images[i].Repository))), registry);
            foreach (var i in onRegistry)
            {
                chosen[i] = forAll ?? Longest(candidates.Where(c => c.Covers(registry, images[i].Repository)), registry);
            }
        }

        return chosen;
    }

    /// <summary>The credential for one repository: the same rule with a single image.</summary>
    public static CredentialScope? Choose(ImageLocation image, IReadOnlyCollection<CredentialScope> candidates) =>
        Choose([image], candidates)[0];

    // Covering prefixes of one repository are nested, so the most segments is the most specific. Docker Hub may be
    // stored under several host names: the canonical one wins, then the key's order, so the choice is stable.
    private static CredentialScope? Longest(IEnumerable<CredentialScope> covering, string registry) =>
        covering.OrderByDescending(c => c.Segments.Count)
            .ThenByDescending(c => string.Equals(c.Host, registry, StringComparison.OrdinalIgnoreCase))
            .ThenBy(c => c.Key, StringComparer.Ordinal)
            .FirstOrDefault();
}
