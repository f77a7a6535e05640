using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Mutations;
using AdmissionGate.Policy;
using AdmissionGate.Registry;
using AdmissionGate.Tests.Checks.Signatures;
using AdmissionGate.Tests.Registry.Infrastructure;
using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Decisions.GateEngineTests;

namespace AdmissionGate.Tests.Mutations;

/// <summary>
/// The mutating webhook pins a Pod's tags at the same time: images whose tag resolution waits for a slow registry (a
/// real docker-registry behind a proxy that holds back every tag lookup) cost about one wait, not one per image.
/// </summary>
public sealed class ConcurrentPinningTests(ColdLookupRegistryFixture registry) : IClassFixture<ColdLookupRegistryFixture>
{
    // Long next to a cold tag resolution on a busy machine, so one wait plus that stays under two waits.
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Three_tags_waiting_for_the_registry_are_pinned_at_once_in_container_order()
    {
        await using var proxy = await HeldBackRegistry.StartAsync(registry.Registry.BaseAddress, path => path.Contains("/manifests/slow-", StringComparison.Ordinal), Delay);
        var policy = PolicyLoader.LoadFile(SignatureTestPolicy.Write(proxy.Authority, registry.Directory, "{insecure: true, timeoutSeconds: 5}", requirePinning: true,
            authorities: SignatureTestPolicy.KeyAuthority("release-key", registry.PublicKeyPem)));
        var pipeline = new MutationPipeline(new StaticPolicyProvider(policy),
            [new DigestPinningMutation(new PolicyRegistryClient(TimeProvider.System, new RegistryOptions { MaxRetries = 0 }), new SignatureVerifier(TimeProvider.System, new SignatureMetrics()))]);
        using var pusher = registry.Registry.Pusher(ColdLookupRegistryFixture.Repository);
        var digests = new Dictionary<string, string>();
        foreach (var tag in new[] { "warm", "slow-0", "slow-1", "slow-2" })
        {
            digests[tag] = (await pusher.PushImageAsync(tag, layerCount: 1)).Manifest.Digest;
        }

        string Image(string tag) => $"{proxy.Authority}/{ColdLookupRegistryFixture.Repository}:{tag}";

        // Warm up (JIT, connections) on a tag of its own, so the clock below times the registry waits.
        (await pipeline.MutateAsync(Pod("payments-prod", new { containers = new[] { new { name = "warm", image = Image("warm") } } }), default)).Patch.Should().NotBeNull();
        var pod = Pod("payments-prod", new
        {
            containers = new[]
            {
                new { name = "c0", image = Image("slow-0") },
                new { name = "c1", image = "quay.io/evil/miner:1" },
                new { name = "c2", image = Image("slow-1") },
                new { name = "c3", image = Image("slow-2") },
            },
        });

        var watch = Stopwatch.StartNew();
        var result = await pipeline.MutateAsync(pod, default);
        watch.Stop();

        proxy.Held.Should().Be(3, "each tag was looked up once, and held back");
        watch.Elapsed.Should().BeLessThan(2 * Delay, "the three tags waited at the same time (one after the other: over three waits)");
        var patch = JsonNode.Parse(Encoding.UTF8.GetString(result.Patch!))!.AsArray();
        patch.Select(op => (op!["path"]!.GetValue<string>(), op["value"]!.GetValue<string>())).Should().Equal(
            ("/spec/containers/0/image", $"{Image("slow-0")}@{digests["slow-0"]}"),
            ("/spec/containers/2/image", $"{Image("slow-1")}@{digests["slow-1"]}"),
            ("/spec/containers/3/image", $"{Image("slow-2")}@{digests["slow-2"]}"));
    }
}
