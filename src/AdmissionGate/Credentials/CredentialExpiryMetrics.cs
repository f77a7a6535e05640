using System.Diagnostics.Metrics;

namespace AdmissionGate.Credentials;

/// <summary>
/// Publishes <c>admission_gate_registry_credential_expiry_timestamp_seconds{registry}</c> (Unix seconds) from store
/// metadata so alerts can fire before a robot account expires. Observable-gauge callbacks are synchronous, so the
/// gauge reports the last snapshot given to <see cref="Update"/> / <see cref="RefreshAsync"/>; the server refreshes
/// it after each store read or on a timer. Only registry names and expiry times are exported, never secrets.
/// </summary>
public sealed class CredentialExpiryMetrics : IDisposable
{
    public const string MeterName = "AdmissionGate";
    public const string InstrumentName = "admission_gate_registry_credential_expiry_timestamp_seconds";

    private readonly bool _ownsMeter;
    private volatile IReadOnlyList<(string Registry, long ExpiresAtUnixSeconds)> _snapshot = [];

    public CredentialExpiryMetrics(IMeterFactory? meterFactory = null)
    {
        Meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _ownsMeter = meterFactory is null;
        Meter.CreateObservableGauge(
            InstrumentName,
            Observe,
            unit: "s",
            description: "Expiry time of the stored pull credential for each registry, as a Unix timestamp.");
    }

    public Meter Meter { get; }

    public void Update(IEnumerable<CredentialMetadata> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        _snapshot = entries.Select(e => (e.Registry, e.ExpiresAt.ToUnixTimeSeconds())).ToList();
    }

    public async Task RefreshAsync(CredentialStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        Update(await store.ListAsync(cancellationToken));
    }

    private IEnumerable<Measurement<long>> Observe() =>
        _snapshot.Select(s => new Measurement<long>(s.ExpiresAtUnixSeconds, new KeyValuePair<string, object?>("registry", s.Registry)));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}
