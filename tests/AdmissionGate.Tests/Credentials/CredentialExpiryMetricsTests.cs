using AdmissionGate.Credentials;
using AdmissionGate.Tests.Metrics;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

public class CredentialExpiryMetricsTests
{
    [Fact]
    public async Task Gauge_reports_each_registry_expiry_from_store_metadata()
    {
        using var kek = Kek.Generate();
        using var scratch = new StoreScratch();
        var store = scratch.Open(kek);
        var ghcrExpiry = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var quayExpiry = new DateTimeOffset(2031, 6, 7, 0, 0, 0, TimeSpan.Zero);
        await store.SetAsync("ghcr.io", "robot", "Planted-Metric-Secret".AsMemory(), ghcrExpiry);
        await store.SetAsync("quay.io", "robot", "Planted-Metric-Secret".AsMemory(), quayExpiry);

        var metrics = new CredentialExpiryMetrics();
        await metrics.RefreshAsync(store);

        var seen = Collect(metrics);
        seen.Should().BeEquivalentTo(new Dictionary<string, long>
        {
            ["ghcr.io"] = ghcrExpiry.ToUnixTimeSeconds(),
            ["quay.io"] = quayExpiry.ToUnixTimeSeconds(),
        });

        await store.DeleteAsync("quay.io");
        await metrics.RefreshAsync(store);
        Collect(metrics).Keys.Should().Equal("ghcr.io");
    }

    private static Dictionary<string, long> Collect(CredentialExpiryMetrics metrics)
    {
        var text = RegistryScrape.Text(metrics.Registry);
        text.Should().NotContain("Planted-Metric-Secret");
        return PrometheusTextParser.Parse(text).Family(CredentialExpiryMetrics.InstrumentName).Samples
            .ToDictionary(s => s.Labels.Should().ContainSingle().Which.Key == "registry" ? s.Labels["registry"] : throw new InvalidOperationException("not labelled by registry"),
                s => (long)s.Value);
    }
}
