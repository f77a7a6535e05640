using System.Diagnostics;
using AdmissionGate.Checks;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Tests.Checks.Signatures;
using AdmissionGate.Tests.Registry.Infrastructure;
using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Decisions.GateEngineTests;

namespace AdmissionGate.Tests.Decisions;

/// <summary>
/// A Pod whose images each wait for a slow registry answer is decided in about one wait, not one per image, through
/// the real checks: signed images in a real docker-registry, behind a proxy that holds back each image's signature.
/// </summary>
public sealed class ConcurrentContainersOverRegistryTests(ColdLookupRegistryFixture registry) : IClassFixture<ColdLookupRegistryFixture>
{
    // Long next to what a cold verification costs on a busy machine (up to a few hundred ms), so that one wait plus
    // that stays well under two waits, and three waits one after the other do not.
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Three_images_waiting_for_the_registry_are_verified_at_once_and_their_findings_keep_container_order()
    {
        // The cosign signature tag of every image: one answer per image's cold verification.
        await using var proxy = await HeldBackRegistry.StartAsync(registry.Registry.BaseAddress, path => path.EndsWith(".sig", StringComparison.Ordinal), Delay);
        var policy = PolicyLoader.LoadFile(SignatureTestPolicy.Write(proxy.Authority, registry.Directory, "{insecure: true, timeoutSeconds: 5}",
            authorities: SignatureTestPolicy.KeyAuthority("release-key", registry.PublicKeyPem)));
        var (engine, _) = SignatureTestPolicy.Engine(policy);
        string Image(string digest) => $"{proxy.Authority}/{ColdLookupRegistryFixture.Repository}@{digest}";

        // Warm up (JIT, connections, the registry's missing referrers API learnt) on an image of its own, so the clock
        // below times the registry waits.
        var warm = await engine.EvaluateAsync(Pod("payments-prod", new { containers = new[] { new { name = "warm", image = Image(await registry.PushSignedAsync(sig: true)) } } }), default);
        warm.Verdict.Should().Be(Verdict.Allow, warm.Message);
        var digests = new[] { await registry.PushSignedAsync(sig: true), await registry.PushSignedAsync(sig: true), await registry.PushSignedAsync(sig: true) };
        // An unapproved image between them: decided at once, and reported in its place.
        var pod = Pod("payments-prod", new
        {
            containers = new[]
            {
                new { name = "c0", image = Image(digests[0]) },
                new { name = "c1", image = "quay.io/evil/miner:1" },
                new { name = "c2", image = Image(digests[1]) },
                new { name = "c3", image = Image(digests[2]) },
            },
        });
        var delayedBefore = proxy.Held;

        var watch = Stopwatch.StartNew();
        var cold = await engine.EvaluateAsync(pod, default);
        watch.Stop();

        (proxy.Held - delayedBefore).Should().Be(3, "each image's signature was held back once");
        watch.Elapsed.Should().BeLessThan(2 * Delay, "the three images waited at the same time (one after the other: over three waits)");
        cold.Verdict.Should().Be(Verdict.Deny);
        cold.Reason.Should().Be(RuleNames.ApprovedRegistry);
        cold.Findings.Where(f => f.Rule == RuleNames.Signature && f.Kind == FindingKind.Passed).Select(f => f.Container.Name).Should().Equal("c0", "c2", "c3");

        // The same Pod again is decided from the warm caches: no check waits, so the engine checks one container
        // after the other, and that sequential decision is the concurrent one word for word.
        var rerun = engine.EvaluateAsync(pod, default);
        rerun.IsCompletedSuccessfully.Should().BeTrue("every check completes at once on warm caches");
        var sequential = await rerun;
        Describe(cold).Should().Equal(Describe(sequential));
        (cold.Message, cold.Reason).Should().Be((sequential.Message, sequential.Reason));
        cold.Warnings.Should().Equal(sequential.Warnings);
    }

    private static IEnumerable<string> Describe(Decision decision) => decision.Findings.Select(f => $"{f.Container.Name} {f.Rule} {f.Kind} {f.Effect} {f.Digest}: {f.Message}");
}
