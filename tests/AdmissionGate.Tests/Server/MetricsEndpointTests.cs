using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Server;

/// <summary>/metrics after real traffic, parsed strictly; each test has its own server so counts are exact.</summary>
public sealed class MetricsEndpointTests
{
    private const string Requests = "admission_gate_admission_requests_total";

    [Fact]
    public async Task Requests_are_counted_by_kind_operation_decision_reason_and_tier()
    {
        await using var gate = await GateServerFixture.StartAsync();
        var started = DateTimeOffset.UtcNow;
        for (var i = 0; i < 2; i++)
        {
            (await gate.ReviewAsync(AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "nginx:1.27"))).Allowed.Should().BeFalse();
        }

        (await gate.ReviewAsync(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27"), gate.Http1)).Allowed.Should().BeTrue();
        (await gate.ReviewAsync(AdmissionReviewBuilder.Deployment("staging", "web").WithContainer("web", "registry.example.com/web:1").Update("registry.example.com/web:0"))).Allowed.Should().BeTrue();
        (await gate.ReviewAsync(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27").Delete(), path: "/mutate")).Allowed.Should().BeTrue();
        using (var bad = await gate.PostAsync("/validate", "{nope"u8.ToArray()))
        {
            bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        }

        using var response = await gate.Http2.GetAsync("/metrics");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/plain; version=0.0.4; charset=utf-8");
        var metrics = Exposition.Parse(await response.Content.ReadAsStringAsync());

        metrics.Types[Requests].Should().Be("counter");
        metrics.Named(Requests).Sum(s => s.Value).Should().Be(6);
        metrics.Value(Requests, ("webhook", "validate"), ("kind", "Pod"), ("operation", "CREATE"), ("decision", "deny"), ("reason", "approved-registry"), ("tier", "production")).Should().Be(2);
        metrics.Value(Requests, ("webhook", "validate"), ("kind", "Pod"), ("operation", "CREATE"), ("decision", "warn"), ("reason", "approved-registry"), ("tier", "dev")).Should().Be(1);
        metrics.Value(Requests, ("webhook", "validate"), ("kind", "Deployment"), ("operation", "UPDATE"), ("decision", "allow"), ("reason", "allowed"), ("tier", "staging")).Should().Be(1);
        metrics.Value(Requests, ("webhook", "mutate"), ("kind", "Pod"), ("operation", "DELETE"), ("decision", "allow"), ("reason", "not-mutated"), ("tier", "none")).Should().Be(1);
        metrics.Value(Requests, ("webhook", "validate"), ("kind", "unknown"), ("operation", "unknown"), ("decision", "deny"), ("reason", "bad-object"), ("tier", "none")).Should().Be(1);

        metrics.Types["admission_gate_admission_duration_seconds"].Should().Be("histogram");
        metrics.Value("admission_gate_admission_duration_seconds_count", ("webhook", "validate")).Should().Be(5);
        metrics.Value("admission_gate_admission_duration_seconds_count", ("webhook", "mutate")).Should().Be(1);
        metrics.Value("admission_gate_admission_duration_seconds_bucket", ("webhook", "validate"), ("le", "+Inf")).Should().Be(5);
        metrics.Value("admission_gate_admission_duration_seconds_sum", ("webhook", "validate")).Should().BePositive();

        metrics.Value("admission_gate_policy_reload_success").Should().Be(1);
        var loaded = metrics.Value("admission_gate_policy_last_reload_success_timestamp_seconds");
        loaded.Should().BeInRange(started.AddSeconds(-30).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);

        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(gate.CertificatePath));
        metrics.Value("admission_gate_tls_certificate_expiry_timestamp_seconds")
            .Should().Be(new DateTimeOffset(certificate.NotAfter.ToUniversalTime()).ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Two_servers_in_one_process_do_not_count_each_other()
    {
        await using var a = await GateServerFixture.StartAsync();
        await using var b = await GateServerFixture.StartAsync();

        for (var i = 0; i < 3; i++)
        {
            await b.ReviewAsync(AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "nginx:1.27"));
        }

        await a.ReviewAsync(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27"));

        var metricsA = Exposition.Parse(await a.MetricsAsync());
        var metricsB = Exposition.Parse(await b.MetricsAsync());
        metricsA.Named(Requests).Sum(s => s.Value).Should().Be(1);
        metricsB.Named(Requests).Sum(s => s.Value).Should().Be(3);

        using var certA = X509Certificate2.CreateFromPem(File.ReadAllText(a.CertificatePath));
        metricsA.Value("admission_gate_tls_certificate_expiry_timestamp_seconds").Should().Be(new DateTimeOffset(certA.NotAfter.ToUniversalTime()).ToUnixTimeSeconds());
    }

    [Fact]
    public void The_parser_refuses_malformed_expositions()
    {
        var valid = "# TYPE x counter\nx_total{a=\"b\\\"c\"} 1\n";
        Exposition.Parse(valid).Value("x_total", ("a", "b\"c")).Should().Be(1);

        foreach (var broken in new[] { "x_total 1\n", "# TYPE x counter\nx_total{a=\"b} 1\n", "# TYPE x counter\nx_total 1", "# TYPE x counter\nx_total one\n", "# TYPE x counter\nx_total{a=\"1\",a=\"2\"} 1\n" })
        {
            var parse = () => Exposition.Parse(broken);
            parse.Should().Throw<FormatException>(because: Encoding.UTF8.GetByteCount(broken) + " bytes: " + broken);
        }
    }
}
