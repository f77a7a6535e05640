using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using Prometheus;

namespace AdmissionGate.Metrics;

/// <summary>
/// The gate's own request and policy metrics, as prometheus-net metrics in one <see cref="CollectorRegistry"/> per gate
/// instance (never the library's static default registry, so several gates in one process do not share series).
/// Every other instrument owner creates its metrics in the same <see cref="Registry"/>.
/// </summary>
public sealed class GateMetrics
{
    private static readonly double[] LatencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Counter _exceptionsApplied;
    private readonly Counter _expiredExceptionMatches;
    private readonly Counter _policyReloads;
    private readonly Counter _findings;
    private readonly Counter _blocked;

    // The kind comes from the request (anyone who can reach the webhook chooses it), so its series are capped.
    private readonly BoundedChildren<(string, string, string, string, string, string), Counter.Child> _requestSeries;

    /// <param name="registry">The registry /metrics serves; null makes a new one (tests, the <c>check</c> command).</param>
    public GateMetrics(CollectorRegistry? registry = null)
    {
        Registry = registry ?? Prometheus.Metrics.NewCustomRegistry();
        _requests = Registry.Counter("admission_gate_admission_requests_total", "AdmissionReview requests answered, by webhook, kind, operation, decision, reason and tier.",
            "webhook", "kind", "operation", "decision", "reason", "tier");
        _duration = Registry.Histogram("admission_gate_admission_duration_seconds", "Time from reading an AdmissionReview to writing its answer.",
            LatencyBuckets, "webhook");
        _exceptionsApplied = Registry.Counter("admission_gate_policy_exceptions_applied_total", "Violations waived by a policy exception, by exception.", "exception");
        _expiredExceptionMatches = Registry.Counter("admission_gate_policy_expired_exception_matches_total", "Violations an expired exception would have waived, by exception.", "exception");
        _findings = Registry.Counter("admission_gate_findings_total", "Rule findings per container image, by rule, effect (deny, warn, audit, waived) and tier; audit-mode violations are visible here.",
            "rule", "effect", "tier");
        _blocked = Registry.Counter("admission_gate_blocked_admissions_total", "Container images denied by a spec.blocked entry, by entry and tier.", "entry", "tier");
        _policyReloads = Registry.Counter("admission_gate_policy_reloads_total", "Policy reload attempts by result (success, error).", "result");
        _requestSeries = new(
            key => _requests.WithLabels([key.Item1, key.Item2, key.Item3, key.Item4, key.Item5, key.Item6]),
            _requests.WithLabels(Enumerable.Repeat(BoundedChildren.OverflowValue, 6).ToArray()));
    }

    /// <summary>The registry of every gate metric; /metrics serves it.</summary>
    public CollectorRegistry Registry { get; }

    public void RequestAnswered(string webhook, string kind, string operation, Decision decision, double seconds)
    {
        var verdict = decision.Verdict switch { Verdict.Deny => "deny", Verdict.Warn => "warn", _ => "allow" };
        _requestSeries.Get((webhook, kind, operation, verdict, decision.Reason, decision.Tier?.Name() ?? "none")).Inc();
        // Two webhooks: the span overload finds the child without allocating a label array.
        _duration.WithLabels([webhook]).Observe(seconds);
    }

    public void ExceptionApplied(string exception) => _exceptionsApplied.WithLabels([exception]).Inc();

    public void ExpiredExceptionMatched(string exception) => _expiredExceptionMatches.WithLabels([exception]).Inc();

    public void Finding(string rule, string effect, string tier) => _findings.WithLabels([rule, effect, tier]).Inc();

    /// <summary>The label is the entry as written in the policy: bounded by the policy, never the request's image.</summary>
    public void BlockedAdmission(string entry, string tier) => _blocked.WithLabels([entry, tier]).Inc();

    public void PolicyReloaded(bool success) => _policyReloads.WithLabels([success ? "success" : "error"]).Inc();
}
