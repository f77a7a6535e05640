using AdmissionGate.Metrics;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;
using Xunit;

namespace AdmissionGate.Tests.Metrics;

public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_endpoint_serves_the_gate_registry_in_the_0_0_4_text_format_even_when_OpenMetrics_is_preferred()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0"); // port 0: the OS picks a free port
        builder.Logging.ClearProviders();
        builder.Services.AddGateMetrics();
        await using var app = builder.Build();
        app.MapGateMetrics();
        var metrics = app.Services.GetRequiredService<GateMetrics>();
        await app.StartAsync();
        try
        {
            metrics.PolicyReloaded(success: false);
            metrics.PolicyReloaded(success: false);
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()), Timeout = TimeSpan.FromSeconds(10) };

            // What Prometheus sends: OpenMetrics first. The gate answers with the text format the golden file pins.
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
            request.Headers.TryAddWithoutValidation("Accept",
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();

            response.IsSuccessStatusCode.Should().BeTrue();
            response.Content.Headers.ContentType!.ToString().Should().Be("text/plain; version=0.0.4; charset=utf-8");
            var scrape = PrometheusTextParser.Parse(body);
            scrape.Value("admission_gate_policy_reloads_total", ("result", "error")).Should().Be(2);
            // Only the gate's registry: none of prometheus-net's default process or .NET collectors.
            scrape.Families.Should().OnlyContain(f => f.Name.StartsWith("admission_gate_", StringComparison.Ordinal));
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public void Two_gates_in_one_process_do_not_share_series()
    {
        var first = new GateMetrics();
        var second = new GateMetrics();

        first.PolicyReloaded(success: true);

        RegistryScrape.Parse(first.Registry).Value("admission_gate_policy_reloads_total", ("result", "success")).Should().Be(1);
        RegistryScrape.Parse(second.Registry).Samples.Should().BeEmpty();
    }

    [Fact]
    public void Label_sets_beyond_the_cap_go_to_one_overflow_series_and_keep_the_total()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var counter = registry.Counter("test_requests_total", "Requests.", "kind");
        var children = new BoundedChildren<string, Counter.Child>(kind => counter.WithLabels(kind), counter.WithLabels(BoundedChildren.OverflowValue), maxChildren: 3);

        foreach (var kind in new[] { "Pod", "Job", "Pod", "Evil1", "Evil2", "Evil3" })
        {
            children.Get(kind).Inc();
        }

        var scrape = RegistryScrape.Parse(registry);
        scrape.Value("test_requests_total", ("kind", "Pod")).Should().Be(2);
        scrape.Value("test_requests_total", ("kind", "Evil1")).Should().Be(1);
        scrape.Value("test_requests_total", ("kind", BoundedChildren.OverflowValue)).Should().Be(2);
        scrape.Family("test_requests_total").Samples.Sum(s => s.Value).Should().Be(6);
    }
}
