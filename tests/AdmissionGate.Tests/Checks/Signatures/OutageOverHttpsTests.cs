using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Xunit;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>The stale window at the running HTTPS gate, with the real registry stopped. Owns its registry.</summary>
public sealed class OutageOverHttpsTests(SignedRegistryFixture registry) : IClassFixture<SignedRegistryFixture>
{
    [Fact]
    public async Task With_the_registry_stopped_a_recently_verified_digest_is_admitted_in_the_stale_window_and_a_new_one_denied()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var policy = SignatureTestPolicy.Write(registry, verification: "{cacheTtl: 1m, staleWindow: 10m, negativeCacheTtl: 1s}");
        await using var gate = await GateServerFixture.StartAsync(
            configureOptions: o => o.PolicyPath = policy,
            configureServices: s => s.Replace(ServiceDescriptor.Singleton<TimeProvider>(clock)));
        AdmissionReviewBuilder Pod(string tag) => AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("app", registry.Pinned(tag));
        (await gate.ReviewAsync(Pod("stale"))).Allowed.Should().BeTrue();

        clock.Advance(TimeSpan.FromMinutes(2));
        await registry.Registry.DisposeAsync();
        var recent = await gate.ReviewAsync(Pod("stale"));
        var fresh = await gate.ReviewAsync(Pod("fresh"));

        recent.Allowed.Should().BeTrue(recent.Body);
        recent.Warnings.Should().Contain(w => w.Contains("registry unreachable", StringComparison.Ordinal) && w.Contains("stale window", StringComparison.Ordinal));
        fresh.Allowed.Should().BeFalse();
        fresh.Message.Should().Contain("registry unreachable").And.Contain(registry.Digests["fresh"]);

        clock.Advance(TimeSpan.FromMinutes(10));
        var expired = await gate.ReviewAsync(Pod("stale"));
        expired.Allowed.Should().BeFalse("past the stale window the gate fails closed");
        expired.Message.Should().Contain("registry unreachable");
    }
}
