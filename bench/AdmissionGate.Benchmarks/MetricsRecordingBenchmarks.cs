using System.Diagnostics.Metrics;
using AdmissionGate.Decisions;
using AdmissionGate.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace AdmissionGate.Benchmarks;

/// <summary>
/// What one answered AdmissionReview costs in metrics (a 6-label counter increment and a 1-label histogram
/// observation), through the gate's exporter and through prometheus-net 8.2.1's own metric types and its
/// MeterAdapter; plus one scrape of the same series. The figures behind keeping the exporter: bench/README.md.
/// </summary>
[MemoryDiagnoser]
public class MetricsRecordingBenchmarks
{
    private static readonly double[] Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly Decision Denied = new() { Verdict = Verdict.Deny, Code = 403, Reason = "approved-registry", Tier = Policy.Tier.Production };

    private ServiceProvider _services = null!;
    private PrometheusExporter _exporter = null!;
    private GateMetrics _gate = null!;
    private Prometheus.CollectorRegistry _registry = null!;
    private Prometheus.Counter _requests = null!;
    private Prometheus.Histogram _duration = null!;
    private Meter _adapterMeter = null!;
    private IDisposable _adapter = null!;
    private GateMetrics _adapted = null!;
    private readonly MemoryStream _scrape = new();

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = _services.GetRequiredService<IMeterFactory>();
        var options = new PrometheusExporterOptions { MeterScope = factory };
        options.MeterNames.Add(GateMetrics.MeterName);
        _exporter = new PrometheusExporter(options);
        _gate = new GateMetrics(factory);

        _registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = Prometheus.Metrics.WithCustomRegistry(_registry);
        _requests = metrics.CreateCounter("admission_gate_admission_requests_total", "AdmissionReview requests answered.",
            ["webhook", "kind", "operation", "decision", "reason", "tier"]);
        _duration = metrics.CreateHistogram("admission_gate_admission_duration_seconds", "Time from reading an AdmissionReview to writing its answer.",
            ["webhook"], new Prometheus.HistogramConfiguration { Buckets = Buckets });

        // The adapter listens to a meter of its own so it does not also see the exporter's instruments.
        var adapterServices = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var adapterFactory = adapterServices.GetRequiredService<IMeterFactory>();
        _adapted = new GateMetrics(adapterFactory);
        _adapterMeter = _adapted.Meter;
        _adapter = Prometheus.MeterAdapter.StartListening(new Prometheus.MeterAdapterOptions
        {
            InstrumentFilterPredicate = i => ReferenceEquals(i.Meter, _adapterMeter),
            ResolveHistogramBuckets = _ => Buckets,
        });

        RecordWithExporter();
        RecordWithPrometheusNet();
        RecordWithMeterAdapter();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _adapter.Dispose();
        _adapted.Dispose();
        _exporter.Dispose();
        _gate.Dispose();
        _services.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void RecordWithExporter() => _gate.RequestAnswered("validate", "Pod", "CREATE", Denied, 0.0021);

    [Benchmark]
    public void RecordWithPrometheusNet()
    {
        // Label values as the gate has them: already-interned strings, no array per call (span overload).
        ReadOnlySpan<string> labels = ["validate", "Pod", "CREATE", "deny", Denied.Reason, "production"];
        _requests.WithLabels(labels).Inc();
        _duration.WithLabels(["validate"]).Observe(0.0021);
    }

    [Benchmark]
    public void RecordWithMeterAdapter() => _adapted.RequestAnswered("validate", "Pod", "CREATE", Denied, 0.0021);

    [Benchmark]
    public long ScrapeExporter()
    {
        var text = _exporter.Collect();
        return text.Length;
    }

    [Benchmark]
    public long ScrapePrometheusNet()
    {
        _scrape.SetLength(0);
        _registry.CollectAndExportAsTextAsync(_scrape).GetAwaiter().GetResult();
        return _scrape.Length;
    }
}
