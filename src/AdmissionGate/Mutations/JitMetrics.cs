using AdmissionGate.Metrics;
using Prometheus;

namespace AdmissionGate.Mutations;

/// <summary>
/// Metrics of just-in-time pull Secrets (creation here, cleanup in the reconciler). Only registry names, reasons and
/// counts are recorded, never anything from a credential.
/// </summary>
public sealed class JitMetrics
{
    private readonly Counter _created;
    private readonly Counter _deleted;
    private readonly Counter _reconcileErrors;
    private readonly Gauge _live;
    private readonly Gauge _oldestAge;
    private readonly Gauge _leader;

    /// <param name="registry">The registry /metrics serves; null makes one of its own (tests).</param>
    public JitMetrics(CollectorRegistry? registry = null)
    {
        Registry = registry ?? Prometheus.Metrics.NewCustomRegistry();
        _created = Registry.Counter("admission_gate_jit_secrets_created_total", "Just-in-time pull Secrets created, by registry.", "registry");
        _deleted = Registry.Counter("admission_gate_jit_secrets_deleted_total", "Just-in-time pull Secrets deleted by the reconciler, by reason (pulled, pods-gone, ttl, orphan).", "reason");
        _reconcileErrors = Registry.Counter("admission_gate_reconcile_errors_total", "Failed reconciler actions (API errors).");
        _live = Registry.Gauge("admission_gate_jit_secrets_live", "Just-in-time pull Secrets that exist now (as seen by the leader).");
        _oldestAge = Registry.Gauge("admission_gate_jit_secret_oldest_age_seconds", "Age of the oldest just-in-time pull Secret (as seen by the leader).");
        _leader = Registry.Gauge("admission_gate_reconciler_leader", "1 while this replica is the JIT Secret reconciler's leader.");
    }

    public CollectorRegistry Registry { get; }

    public void SecretCreated(string registry) => _created.WithLabels([registry]).Inc();

    public void SecretDeleted(string reason) => _deleted.WithLabels([reason]).Inc();

    public void ReconcileError() => _reconcileErrors.Inc();

    public void Observed(int live, double oldestAgeSeconds)
    {
        _live.Set(live);
        _oldestAge.Set(oldestAgeSeconds);
    }

    public void Leader(bool isLeader) => _leader.Set(isLeader ? 1 : 0);
}
