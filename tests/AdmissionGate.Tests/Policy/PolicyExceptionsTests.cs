using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Tests.Decisions;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Policy;

public class PolicyExceptionsTests
{
    private const string PolicyWithException = """
        apiVersion: admission-gate.io/v1alpha1
        kind: GatePolicy
        metadata: {name: with-exception}
        spec:
          tiers:
            dev: {mode: enforce, approved: [registry.example.com]}
            staging: {mode: enforce, approved: [registry.example.com]}
            production: {mode: enforce, approved: [registry.example.com]}
          exceptions:
            - name: legacy-reporting
              reason: Vendor image until the reporting rewrite ships (TICKET-42)
              owner: team-payments@example.com
              expires: 2026-12-31
              rules: [approved-registry]
              namespaces: [payments-prod]
              images: [quay.io/vendor/]
        """;

    private static readonly object VendorPod = new { containers = new[] { new { name = "report", image = "quay.io/vendor/report:2.1" } } };

    [Fact]
    public async Task A_valid_exception_admits_the_image_and_the_decision_says_which_exception()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 31, 23, 0, 0, TimeSpan.Zero));
        var engine = GateEngineTests.Engine(PolicyLoader.LoadText(PolicyWithException, "test.yaml"), clock);

        var decision = await engine.EvaluateAsync(GateEngineTests.Pod("payments-prod", VendorPod), default);

        decision.Allowed.Should().BeTrue();
        decision.ExceptionsUsed.Should().ContainSingle().Which.Name.Should().Be("legacy-reporting");
        decision.Warnings.Should().ContainSingle().Which.Should().Contain("exception \"legacy-reporting\"").And.Contain("team-payments@example.com").And.Contain("2026-12-31");
        decision.Message.Should().Contain("waived by exception \"legacy-reporting\"");
    }

    [Fact]
    public async Task After_its_expiry_date_the_exception_no_longer_applies_and_is_reported()
    {
        var clock = new ManualClock(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var engine = GateEngineTests.Engine(PolicyLoader.LoadText(PolicyWithException, "test.yaml"), clock);

        var decision = await engine.EvaluateAsync(GateEngineTests.Pod("payments-prod", VendorPod), default);

        decision.Allowed.Should().BeFalse();
        decision.ExceptionsUsed.Should().BeEmpty();
        decision.ExpiredExceptions.Should().ContainSingle().Which.Name.Should().Be("legacy-reporting");
        decision.Warnings.Should().Contain(w => w.Contains("expired on 2026-12-31", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("payments-staging", "quay.io/vendor/report:2.1")]
    [InlineData("payments-prod", "quay.io/vendorx/report:2.1")]
    [InlineData("payments-prod", "quay.io/other/report:2.1")]
    public async Task An_exception_covers_only_its_namespaces_and_images(string ns, string image)
    {
        var engine = GateEngineTests.Engine(PolicyLoader.LoadText(PolicyWithException, "test.yaml"), new ManualClock(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero)));

        var decision = await engine.EvaluateAsync(GateEngineTests.Pod(ns, new { containers = new[] { new { name = "c", image } } }), default);

        decision.Verdict.Should().Be(Verdict.Deny);
    }

    [Theory]
    [InlineData("2026-12-31", "2027-01-01T00:00:00+00:00")]
    [InlineData("2026-12-31T12:00:00Z", "2026-12-31T12:00:00+00:00")]
    [InlineData("2026-12-31T12:00:00+02:00", "2026-12-31T10:00:00+00:00")]
    public void Expiry_dates_mean_the_end_of_that_day_and_timestamps_mean_that_instant(string written, string expected)
    {
        PolicyCompiler.TryParseExpiry(written, out var expiresAt).Should().BeTrue();
        expiresAt.Should().Be(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
    }
}
