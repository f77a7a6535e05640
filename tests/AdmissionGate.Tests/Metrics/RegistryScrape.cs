using System.Text;
using Prometheus;

namespace AdmissionGate.Tests.Metrics;

/// <summary>What /metrics would serve for a registry, without a server: the text prometheus-net writes for a scrape.</summary>
internal static class RegistryScrape
{
    public static string Text(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static PrometheusScrape Parse(CollectorRegistry registry) => PrometheusTextParser.Parse(Text(registry));
}

/// <summary>A registry's scrape on demand, for tests that hold on to what /metrics would serve.</summary>
internal sealed class RegistryExporter(CollectorRegistry registry)
{
    public string Collect() => RegistryScrape.Text(registry);
}
