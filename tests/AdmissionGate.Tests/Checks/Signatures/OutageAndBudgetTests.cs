using AdmissionGate.Checks;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Registry;
using AdmissionGate.Tests.Registry.Infrastructure;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Microsoft.AspNetCore.Http;
using Xunit;
using static AdmissionGate.Tests.Decisions.GateEngineTests;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>Owns its registry: the test stops it.</summary>
public sealed class OutageAndBudgetTests(SignedRegistryFixture registry) : IClassFixture<SignedRegistryFixture>
{
    private static object Containers(params string[] images) => new { containers = images.Select((image, i) => new { name = "c" + i, image }).ToArray() };

    [Fact]
    public async Task With_the_registry_down_a_recent_positive_result_is_honoured_within_the_stale_window_and_new_images_are_denied()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var policy = SignatureTestPolicy.Load(registry, verification: "{cacheTtl: 1m, staleWindow: 10m, negativeCacheTtl: 1s}");
        var (engine, _) = SignatureTestPolicy.Engine(policy, clock);
        (await engine.EvaluateAsync(Pod("payments-prod", Containers(registry.Pinned("stale"))), default)).Verdict.Should().Be(Verdict.Allow);

        clock.Advance(TimeSpan.FromMinutes(2));
        await registry.Registry.DisposeAsync();

        var recent = await engine.EvaluateAsync(Pod("payments-prod", Containers(registry.Pinned("stale"))), default);
        recent.Allowed.Should().BeTrue(recent.Message);
        recent.Warnings.Should().Contain(w => w.Contains("registry unreachable", StringComparison.Ordinal) && w.Contains("stale window", StringComparison.Ordinal));

        var fresh = await engine.EvaluateAsync(Pod("payments-prod", Containers(registry.Pinned("fresh"))), default);
        fresh.Allowed.Should().BeFalse();
        fresh.Message.Should().Contain("registry unreachable").And.Contain(registry.Digests["fresh"]);

        clock.Advance(TimeSpan.FromMinutes(10));
        var expired = await engine.EvaluateAsync(Pod("payments-prod", Containers(registry.Pinned("stale"))), default);
        expired.Allowed.Should().BeFalse("past the stale window the gate fails closed");
        expired.Message.Should().Contain("registry unreachable");
    }

    [Theory]
    [InlineData("1s", null, "verification timed out after 1 s")]
    [InlineData("20s", "2s", "verification timed out after 1.6 s")]
    public async Task A_registry_that_never_answers_ends_in_verification_timed_out_within_the_budget_or_the_api_servers_timeout(string budget, string? apiServerTimeout, string expected)
    {
        await using var silent = await LoopbackHttpServer.StartAsync(async context => await Task.Delay(Timeout.Infinite, context.RequestAborted));
        using var dir = new TempDirectory();
        var path = dir.Write("policy.yaml", $$"""
            apiVersion: admission-gate.io/v1alpha1
            kind: GatePolicy
            spec:
              namespaces: {tierByName: [{tier: production, names: ["*-prod"]}]}
              registries:
                "{{silent.Authority}}": {insecure: true, timeoutSeconds: 30}
              verification: {budget: {{budget}}}
              tiers:
                dev: {mode: warn}
                staging: {mode: enforce}
                production:
                  mode: enforce
                  approved: ["{{silent.Authority}}"]
                  signatures:
                    - name: release
                      images: ["{{silent.Authority}}"]
                      authorities: [{{SignatureTestPolicy.KeyAuthority().Replace("trustRoot: mock, ", string.Empty, StringComparison.Ordinal)}}]
            """);
        var verifier = new SignatureVerifier(TimeProvider.System, new SignatureMetrics());
        var engine = new GateEngine(new StaticPolicyProvider(PolicyLoader.LoadFile(path)),
            CheckPipeline.Create(verifier, new PolicyRegistryClient(TimeProvider.System, new RegistryOptions { MaxRetries = 0 })), TimeProvider.System);

        Decision decision;
        using (AdmissionDeadline.Begin(TimeProvider.System, apiServerTimeout))
        {
            decision = await engine.EvaluateAsync(Pod("payments-prod", Containers($"{silent.Authority}/app@sha256:{new string('a', 64)}")), default);
        }

        decision.Allowed.Should().BeFalse();
        decision.Message.Should().Contain(expected);
        silent.RequestCount.Should().BeGreaterThan(0);
    }
}
