using AdmissionGate.Metrics;
using Prometheus;

namespace AdmissionGate.Registry;

/// <summary>
/// Registry request metrics. <see cref="Shared"/> lives in a registry of its own that nothing serves; tests pass their
/// own <see cref="CollectorRegistry"/> so parallel tests do not see each other's values.
/// </summary>
public sealed class RegistryMetrics
{
    public const string RequestDurationName = "admission_gate_registry_request_duration_seconds";
    public const string ErrorsName = "admission_gate_registry_errors_total";

    private static readonly double[] DurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly Lazy<RegistryMetrics> SharedInstance = new(() => new RegistryMetrics(Prometheus.Metrics.NewCustomRegistry()));

    // The registry host comes from an image reference, so the series are capped.
    private readonly BoundedChildren<(string, string, string), Histogram.Child> duration;
    private readonly BoundedChildren<(string, string, string), Counter.Child> errors;

    public RegistryMetrics(CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var durationMetric = registry.Histogram(RequestDurationName, "Duration of HTTP requests to container registries, per attempt.",
            DurationBuckets, "registry", "method", "status");
        var errorsMetric = registry.Counter(ErrorsName, "Registry operations that failed, by registry, status and kind.", "registry", "status", "kind");
        duration = new(key => durationMetric.WithLabels([key.Item1, key.Item2, key.Item3]), durationMetric.WithLabels(Overflow));
        errors = new(key => errorsMetric.WithLabels([key.Item1, key.Item2, key.Item3]), errorsMetric.WithLabels(Overflow));
    }

    public static RegistryMetrics Shared => SharedInstance.Value;

    private static string[] Overflow => [BoundedChildren.OverflowValue, BoundedChildren.OverflowValue, BoundedChildren.OverflowValue];

    /// <param name="status">HTTP status code, or "network_error" / "timeout" when no response arrived.</param>
    internal void RecordRequest(string registry, string method, string status, TimeSpan elapsed) =>
        duration.Get((registry, method, status)).Observe(elapsed.TotalSeconds);

    internal void RecordError(string registry, string status, RegistryErrorKind kind) =>
        errors.Get((registry, status, kind.ToString())).Inc();
}
