using System.Diagnostics.Metrics;
using AdmissionGate.Metrics;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AdmissionGate.Tests.Metrics;

public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_endpoint_serves_the_exposition_with_the_0_0_4_content_type()
    {
        var meterName = "test.endpoint." + Guid.NewGuid().ToString("N");
        using var meter = new Meter(meterName);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0"); // port 0: the OS picks a free port
        builder.Logging.ClearProviders();
        builder.Services.AddPrometheusExporter(meterName);
        await using var app = builder.Build();
        app.MapPrometheusMetrics();
        var counter = meter.CreateCounter<int>("admission.reviews", description: "Reviews.");
        await app.StartAsync();
        try
        {
            counter.Add(3, new KeyValuePair<string, object?>("decision", "deny"));
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()), Timeout = TimeSpan.FromSeconds(10) };

            using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
            var body = await response.Content.ReadAsStringAsync();

            response.IsSuccessStatusCode.Should().BeTrue();
            response.Content.Headers.ContentType!.ToString().Should().Be("text/plain; version=0.0.4; charset=utf-8");
            PrometheusTextParser.Parse(body).Value("admission_reviews_total", ("decision", "deny")).Should().Be(3);
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
