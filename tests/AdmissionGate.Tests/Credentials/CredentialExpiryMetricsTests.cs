using System.Diagnostics.Metrics;
using AdmissionGate.Credentials;
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

        using var metrics = new CredentialExpiryMetrics();
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
        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter) && instrument.Name == CredentialExpiryMetrics.InstrumentName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            tags.Length.Should().Be(1);
            tags[0].Key.Should().Be("registry");
            seen[(string)tags[0].Value!] = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        metrics.Meter.Name.Should().Be("AdmissionGate");
        return seen;
    }
}
