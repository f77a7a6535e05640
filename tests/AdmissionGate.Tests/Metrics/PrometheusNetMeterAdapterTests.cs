using System.Diagnostics.Metrics;
using System.Text;
using AdmissionGate.Decisions;
using AdmissionGate.Metrics;
using AdmissionGate.Policy;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace AdmissionGate.Tests.Metrics;

/// <summary>
/// Why the gate keeps its own exporter (issue 14, bench/README.md): prometheus-net's MeterAdapter, fed the gate's real
/// instruments, breaks the names, types and HELP texts the golden file and the alerts rely on. When a prometheus-net
/// upgrade makes this test fail, the adapter may have become usable and the decision should be revisited.
/// </summary>
public sealed class PrometheusNetMeterAdapterTests
{
    [Fact]
    public async Task The_meter_adapter_renames_the_gate_metrics_and_turns_counters_into_gauges()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var gate = new GateMetrics(services.GetRequiredService<IMeterFactory>());
        var registry = Prometheus.Metrics.NewCustomRegistry();
        using var adapter = Prometheus.MeterAdapter.StartListening(new Prometheus.MeterAdapterOptions
        {
            Registry = registry,
            MetricFactory = Prometheus.Metrics.WithCustomRegistry(registry),
            InstrumentFilterPredicate = i => ReferenceEquals(i.Meter, gate.Meter),
        });
        var options = new PrometheusExporterOptions { MeterScope = services.GetRequiredService<IMeterFactory>() };
        options.MeterNames.Add(GateMetrics.MeterName);
        using var exporter = new PrometheusExporter(options);

        gate.RequestAnswered("validate", "Pod", "CREATE", new Decision { Verdict = Verdict.Deny, Code = 403, Reason = "approved-registry", Tier = Tier.Production }, 0.002);
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        var adapted = PrometheusTextParser.Parse(Encoding.UTF8.GetString(stream.ToArray()));
        var ours = PrometheusTextParser.Parse(exporter.Collect());

        ours.Family("admission_gate_admission_requests_total").Type.Should().Be("counter");
        adapted.Families.Select(f => f.Name).Should().NotContain("admission_gate_admission_requests_total");
        var requests = adapted.Family("admissiongate_admission_gate_admission_requests");
        requests.Type.Should().Be("gauge", "the adapter exports a Counter<T> as a gauge");
        requests.Help.Should().NotBe(ours.Family("admission_gate_admission_requests_total").Help);
        adapted.Family("admissiongate_admission_gate_admission_duration_seconds").Help.Should()
            .StartWith("(s) ", "the adapter puts the unit into HELP");
    }
}
