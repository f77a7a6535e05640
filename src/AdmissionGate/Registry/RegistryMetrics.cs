using System.Diagnostics.Metrics;

namespace AdmissionGate.Registry;

/// <summary>
/// Registry instruments on the <c>AdmissionGate</c> meter. One instance per meter; <see cref="Shared"/> uses a
/// process-wide meter, tests pass their own <see cref="Meter"/> so parallel tests do not see each other's values.
/// </summary>
public sealed class RegistryMetrics
{
    public const string MeterName = "AdmissionGate";
    public const string RequestDurationName = "admission_gate_registry_request_duration_seconds";
    public const string ErrorsName = "admission_gate_registry_errors";

    private static readonly Lazy<RegistryMetrics> SharedInstance = new(() => new RegistryMetrics(new Meter(MeterName)));

    private readonly Histogram<double> duration;
    private readonly Counter<long> errors;

    public RegistryMetrics(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        duration = meter.CreateHistogram<double>(
            RequestDurationName, unit: "s", description: "Duration of HTTP requests to container registries, per attempt.");
        errors = meter.CreateCounter<long>(
            ErrorsName, description: "Registry operations that failed, by registry, status and kind.");
    }

    public static RegistryMetrics Shared => SharedInstance.Value;

    /// <param name="status">HTTP status code, or "network_error" / "timeout" when no response arrived.</param>
    internal void RecordRequest(string registry, string method, string status, TimeSpan elapsed) =>
        duration.Record(
            elapsed.TotalSeconds,
            new KeyValuePair<string, object?>("registry", registry),
            new KeyValuePair<string, object?>("method", method),
            new KeyValuePair<string, object?>("status", status));

    internal void RecordError(string registry, string status, RegistryErrorKind kind) =>
        errors.Add(
            1,
            new KeyValuePair<string, object?>("registry", registry),
            new KeyValuePair<string, object?>("status", status),
            new KeyValuePair<string, object?>("kind", kind.ToString()));
}
