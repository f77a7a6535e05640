namespace AdmissionGate.Metrics;

/// <summary>What <see cref="PrometheusExporter"/> exports and how it bounds memory.</summary>
public sealed class PrometheusExporterOptions
{
    /// <summary>
    /// Default histogram bucket upper bounds, in seconds, used when an instrument gives no
    /// <c>InstrumentAdvice.HistogramBucketBoundaries</c>. Admission latencies sit between sub-millisecond
    /// cache hits and multi-second registry/signature look-ups, hence 0.5 ms .. 10 s.
    /// </summary>
    public static IReadOnlyList<double> DefaultSecondsBuckets { get; } =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Names of the <see cref="System.Diagnostics.Metrics.Meter"/>s to export (exact, ordinal match).</summary>
    public IList<string> MeterNames { get; } = [];

    /// <summary>
    /// When set, only meters whose <see cref="System.Diagnostics.Metrics.Meter.Scope"/> is this object are exported
    /// (pass the host's <see cref="System.Diagnostics.Metrics.IMeterFactory"/>). Meter names are process-wide, so
    /// without a scope two hosts in one process (tests, or a host restarted in-process) would export each other's
    /// instruments.
    /// </summary>
    public object? MeterScope { get; set; }

    /// <summary>Bucket bounds for histograms without advice; defaults to <see cref="DefaultSecondsBuckets"/>.</summary>
    public IReadOnlyList<double> DefaultHistogramBuckets { get; set; } = DefaultSecondsBuckets;

    /// <summary>
    /// Upper bound of distinct label sets per instrument. Tags such as image references are attacker-influenced
    /// in an admission webhook; without a cap a flood of unique values would grow memory and scrape size without
    /// limit. Measurements for new label sets beyond the cap are dropped (logged once per instrument).
    /// </summary>
    public int MaxSeriesPerInstrument { get; set; } = 2000;
}
