using System.Diagnostics;
using System.Diagnostics.Metrics;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;

namespace AdmissionGate.Metrics;

/// <summary>
/// The gate's own instruments, on the <c>AdmissionGate</c> meter. Code records here with plain
/// System.Diagnostics.Metrics; only the exporter knows about Prometheus.
/// </summary>
public sealed class GateMetrics : IDisposable
{
    public const string MeterName = "AdmissionGate";

    private static readonly double[] LatencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _exceptionsApplied;
    private readonly Counter<long> _expiredExceptionMatches;
    private readonly Counter<long> _policyReloads;
    private readonly Counter<long> _findings;
    private readonly Counter<long> _blocked;

    public GateMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("admission_gate_admission_requests", description: "AdmissionReview requests answered, by webhook, kind, operation, decision, reason and tier.");
        _duration = _meter.CreateHistogram("admission_gate_admission_duration_seconds", unit: "s",
            description: "Time from reading an AdmissionReview to writing its answer.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _exceptionsApplied = _meter.CreateCounter<long>("admission_gate_policy_exceptions_applied", description: "Violations waived by a policy exception, by exception.");
        _expiredExceptionMatches = _meter.CreateCounter<long>("admission_gate_policy_expired_exception_matches", description: "Violations an expired exception would have waived, by exception.");
        _findings = _meter.CreateCounter<long>("admission_gate_findings", description: "Rule findings per container image, by rule, effect (deny, warn, audit, waived) and tier; audit-mode violations are visible here.");
        _blocked = _meter.CreateCounter<long>("admission_gate_blocked_admissions", description: "Container images denied by a spec.blocked entry, by entry and tier.");
        _policyReloads = _meter.CreateCounter<long>("admission_gate_policy_reloads", description: "Policy reload attempts by result (success, error).");
    }

    public Meter Meter => _meter;

    public void RequestAnswered(string webhook, string kind, string operation, Decision decision, double seconds)
    {
        var tags = new TagList
        {
            { "webhook", webhook },
            { "kind", kind },
            { "operation", operation },
            { "decision", decision.Verdict switch { Verdict.Deny => "deny", Verdict.Warn => "warn", _ => "allow" } },
            { "reason", decision.Reason },
            { "tier", decision.Tier?.Name() ?? "none" },
        };
        _requests.Add(1, tags);
        _duration.Record(seconds, new KeyValuePair<string, object?>("webhook", webhook));
    }

    public void ExceptionApplied(string exception) => _exceptionsApplied.Add(1, new KeyValuePair<string, object?>("exception", exception));

    public void ExpiredExceptionMatched(string exception) => _expiredExceptionMatches.Add(1, new KeyValuePair<string, object?>("exception", exception));

    public void Finding(string rule, string effect, string tier) =>
        _findings.Add(1, new TagList { { "rule", rule }, { "effect", effect }, { "tier", tier } });

    /// <summary>The label is the entry as written in the policy: bounded by the policy, never the request's image.</summary>
    public void BlockedAdmission(string entry, string tier) =>
        _blocked.Add(1, new TagList { { "entry", entry }, { "tier", tier } });

    public void PolicyReloaded(bool success) => _policyReloads.Add(1, new KeyValuePair<string, object?>("result", success ? "success" : "error"));

    public void Dispose() => _meter.Dispose();
}
