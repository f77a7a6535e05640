using System.Diagnostics.Metrics;

namespace AdmissionGate.Mutations;

/// <summary>
/// Instruments of just-in-time pull Secrets (creation here, cleanup in the reconciler). Only registry names,
/// reasons and counts are recorded, never anything from a credential.
/// </summary>
public sealed class JitMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _created;
    private readonly Counter<long> _deleted;
    private readonly Counter<long> _reconcileErrors;
    private volatile Snapshot _snapshot = new(0, 0, false);

    public JitMetrics(IMeterFactory? meterFactory = null, string meterName = "AdmissionGate")
    {
        _meter = meterFactory?.Create(meterName) ?? new Meter(meterName);
        _ownsMeter = meterFactory is null;
        _created = _meter.CreateCounter<long>("admission_gate_jit_secrets_created", description: "Just-in-time pull Secrets created, by registry.");
        _deleted = _meter.CreateCounter<long>("admission_gate_jit_secrets_deleted", description: "Just-in-time pull Secrets deleted by the reconciler, by reason (pulled, pods-gone, ttl, orphan).");
        _reconcileErrors = _meter.CreateCounter<long>("admission_gate_reconcile_errors", description: "Failed reconciler actions (API errors).");
        _meter.CreateObservableGauge("admission_gate_jit_secrets_live", () => _snapshot.Live, description: "Just-in-time pull Secrets that exist now (as seen by the leader).");
        _meter.CreateObservableGauge("admission_gate_jit_secret_oldest_age_seconds", () => _snapshot.OldestAgeSeconds, unit: "s", description: "Age of the oldest just-in-time pull Secret (as seen by the leader).");
        _meter.CreateObservableGauge("admission_gate_reconciler_leader", () => _snapshot.Leader ? 1 : 0, description: "1 while this replica is the JIT Secret reconciler's leader.");
    }

    public Meter Meter => _meter;

    public void SecretCreated(string registry) => _created.Add(1, new KeyValuePair<string, object?>("registry", registry));

    public void SecretDeleted(string reason) => _deleted.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void ReconcileError() => _reconcileErrors.Add(1);

    public void Observed(int live, double oldestAgeSeconds) => _snapshot = _snapshot with { Live = live, OldestAgeSeconds = oldestAgeSeconds };

    public void Leader(bool isLeader) => _snapshot = _snapshot with { Leader = isLeader };

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private sealed record Snapshot(int Live, double OldestAgeSeconds, bool Leader);
}
