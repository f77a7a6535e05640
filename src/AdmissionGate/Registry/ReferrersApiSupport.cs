using System.Collections.Concurrent;

namespace AdmissionGate.Registry;

/// <summary>
/// Which registries answered the OCI referrers API with 404 (no API, e.g. distribution 2.8), remembered for
/// <see cref="RegistryClientOptions.ReferrersApiRecheckInterval"/> so lookups go straight to the referrers tag
/// schema instead of asking again every time. After the interval the API is probed again, so a registry that
/// gains the API is picked up; any successful API answer clears the memory at once.
/// </summary>
internal sealed class ReferrersApiSupport(TimeProvider time, TimeSpan recheckInterval)
{
    // One entry per registry that lacks the API: bounded by the registries the policy lets the gate contact.
    private readonly ConcurrentDictionary<string, DateTimeOffset> missingUntil = new(StringComparer.Ordinal);

    public bool KnownMissing(string registry) =>
        missingUntil.TryGetValue(registry, out var until) && time.GetUtcNow() < until;

    public void Missing(string registry)
    {
        if (recheckInterval > TimeSpan.Zero)
        {
            missingUntil[registry] = time.GetUtcNow() + recheckInterval;
        }
    }

    public void Present(string registry) => missingUntil.TryRemove(registry, out _);
}
