using AdmissionGate.Decisions;
using AdmissionGate.Metrics;
using BenchmarkDotNet.Attributes;

namespace AdmissionGate.Benchmarks;

/// <summary>
/// What one answered AdmissionReview costs in metrics through <see cref="GateMetrics"/> (a 6-label counter increment
/// through the capped child cache and a 1-label histogram observation, both prometheus-net), and one scrape of that
/// registry. The figures are in bench/README.md.
/// </summary>
[MemoryDiagnoser]
public class MetricsRecordingBenchmarks
{
    private static readonly Decision Denied = new() { Verdict = Verdict.Deny, Code = 403, Reason = "approved-registry", Tier = Policy.Tier.Production };

    private readonly GateMetrics _gate = new();
    private readonly MemoryStream _scrape = new();

    [GlobalSetup]
    public void Setup() => RecordRequest();

    [Benchmark(Baseline = true)]
    public void RecordRequest() => _gate.RequestAnswered("validate", "Pod", "CREATE", Denied, 0.0021);

    [Benchmark]
    public long Scrape()
    {
        _scrape.SetLength(0);
        _gate.Registry.CollectAndExportAsTextAsync(_scrape).GetAwaiter().GetResult();
        return _scrape.Length;
    }
}
