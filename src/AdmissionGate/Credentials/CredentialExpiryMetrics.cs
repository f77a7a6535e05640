using AdmissionGate.Metrics;
using Prometheus;

namespace AdmissionGate.Credentials;

/// <summary>
/// Publishes <c>admission_gate_registry_credential_expiry_timestamp_seconds{registry}</c> (Unix seconds) from store
/// metadata so alerts can fire before a robot account expires. The gauge holds the last snapshot given to
/// <see cref="Update"/> / <see cref="RefreshAsync"/>; the server refreshes it after each store read or on a timer. A
/// registry that left the store leaves the gauge. Only registry names and expiry times are exported, never secrets.
/// </summary>
public sealed class CredentialExpiryMetrics
{
    public const string InstrumentName = "admission_gate_registry_credential_expiry_timestamp_seconds";

    private readonly Gauge _expiry;
    private readonly Lock _updateLock = new();
    private HashSet<string> _registries = new(StringComparer.Ordinal);

    /// <param name="registry">The registry /metrics serves; null makes one of its own (tests).</param>
    public CredentialExpiryMetrics(CollectorRegistry? registry = null)
    {
        Registry = registry ?? Prometheus.Metrics.NewCustomRegistry();
        _expiry = Registry.Gauge(InstrumentName, "Expiry time of the stored pull credential for each registry, as a Unix timestamp.", "registry");
    }

    public CollectorRegistry Registry { get; }

    public void Update(IEnumerable<CredentialMetadata> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var snapshot = entries.ToList();
        lock (_updateLock)
        {
            var current = new HashSet<string>(snapshot.Select(e => e.Registry), StringComparer.Ordinal);
            foreach (var gone in _registries.Where(r => !current.Contains(r)))
            {
                _expiry.RemoveLabelled(gone);
            }

            foreach (var entry in snapshot)
            {
                _expiry.WithLabels(entry.Registry).Set(entry.ExpiresAt.ToUnixTimeSeconds());
            }

            _registries = current;
        }
    }

    public async Task RefreshAsync(CredentialStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        Update(await store.ListAsync(cancellationToken));
    }
}
