using AdmissionGate.Checks.Signatures;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Registry;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Decisions.GateEngineTests;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>
/// What one cold signature lookup costs the registry (counted in the real docker-registry's access log), and that
/// asking for the cosign tag and the referrers at once finds exactly what asking one after the other would.
/// </summary>
public sealed class ColdLookupRequestsTests(ColdLookupRegistryFixture registry) : IClassFixture<ColdLookupRegistryFixture>
{
    private static readonly TimeSpan Recheck = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task A_cold_lookup_reads_four_times_until_the_missing_referrers_API_is_known_then_three_until_the_memory_expires()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        using var client = Client(clock);

        var (first, firstReads) = await LookupAsync(client, await registry.PushSignedAsync(sig: true));
        firstReads.Should().HaveCount(4, "the .sig manifest, its layer, the referrers API (404 on distribution 2.8) and the referrers tag:\n" + string.Join('\n', firstReads));
        firstReads.Should().ContainSingle(r => r.Contains("/referrers/", StringComparison.Ordinal));
        first.Should().ContainSingle().Which.Should().BeOfType<LegacyCosignSignature>();

        var (second, secondReads) = await LookupAsync(client, await registry.PushSignedAsync(sig: true));
        secondReads.Should().HaveCount(3, "the registry is known to lack the referrers API:\n" + string.Join('\n', secondReads));
        secondReads.Should().NotContain(r => r.Contains("/referrers/", StringComparison.Ordinal));
        second.Should().ContainSingle().Which.Should().BeOfType<LegacyCosignSignature>();

        clock.Advance(Recheck - TimeSpan.FromSeconds(1));
        (await LookupAsync(client, await registry.PushSignedAsync(sig: true))).Reads.Should().HaveCount(3);

        clock.Advance(TimeSpan.FromSeconds(1));
        var (_, afterExpiry) = await LookupAsync(client, await registry.PushSignedAsync(sig: true));
        afterExpiry.Should().HaveCount(4, "after the recheck interval the API is asked again:\n" + string.Join('\n', afterExpiry));
        afterExpiry.Should().ContainSingle(r => r.Contains("/referrers/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_gate_remembers_the_missing_referrers_API_across_admissions()
    {
        var policy = PolicyLoader.LoadFile(SignatureTestPolicy.Write(registry.Registry.Registry, registry.Directory, "{insecure: true, timeoutSeconds: 2}",
            authorities: SignatureTestPolicy.KeyAuthority("release-key", registry.PublicKeyPem)));
        var (engine, verifier) = SignatureTestPolicy.Engine(policy);

        var reads = new List<int>();
        foreach (var bundles in new[] { 0, 0, 1 })
        {
            var digest = await registry.PushSignedAsync(sig: true, bundles);
            var before = registry.Registry.AccessLog.Count;
            var decision = await engine.EvaluateAsync(Pod("payments-prod", new { containers = new[] { new { name = "app", image = registry.Pinned(digest) } } }), default);
            decision.Verdict.Should().Be(Verdict.Allow, decision.Message);
            reads.Add((await registry.ReadsSinceAsync(before)).Count);
        }

        verifier.Metrics.RegistryLookups.Should().Be(3);
        reads.Should().Equal(new[] { 4, 3, 5 }, "the third image also has a bundle referrer: its manifest and blob are read too");
    }

    [Theory]
    [InlineData(HeldBack.None)]
    [InlineData(HeldBack.CosignTag)]
    [InlineData(HeldBack.Referrers)]
    public async Task Candidates_and_their_order_do_not_depend_on_which_answer_arrives_first(HeldBack held)
    {
        var digest = await registry.PushSignedAsync(sig: true, bundles: 2);
        using var client = Client(TimeProvider.System);
        var listed = await client.GetReferrersAsync(registry.Registry.Registry, ColdLookupRegistryFixture.Repository, digest, null, default);
        var expected = new[] { $"{ColdLookupRegistryFixture.Repository}:{digest.Replace(':', '-')}.sig layer 1" }
            .Concat(listed.Select(r => $"bundle referrer {r.Digest[..19]}"));

        var found = await SignatureFinder.FindAsync(new OrderingClient(client, held), registry.Registry.Registry, ColdLookupRegistryFixture.Repository, digest, default);

        found.Select(c => c.Source).Should().Equal(expected);
        found.Skip(1).Should().AllBeOfType<BundleReferrer>();
    }

    [Fact]
    public async Task The_candidate_limit_keeps_the_cosign_layers_first_and_fetches_no_referrer_past_it()
    {
        var digest = await registry.PushSignedAsync(sig: true, bundles: 3);
        using var client = Client(TimeProvider.System);
        var layout = new CosignTagLayout(".sig", LegacyCosignSignature.SimpleSigningMediaType, (source, payload, annotations) => new LegacyCosignSignature(source, payload, annotations));
        var listed = await client.GetReferrersAsync(registry.Registry.Registry, ColdLookupRegistryFixture.Repository, digest, null, default);

        var before = registry.Registry.AccessLog.Count;
        var found = await SignatureFinder.FindAsync(client, registry.Registry.Registry, ColdLookupRegistryFixture.Repository, digest, layout, 1024 * 1024, maxCandidates: 2, default);
        var reads = await registry.ReadsSinceAsync(before);

        found.Select(c => c.Source).Should().Equal($"{ColdLookupRegistryFixture.Repository}:{digest.Replace(':', '-')}.sig layer 1", $"bundle referrer {listed[0].Digest[..19]}");
        reads.Where(r => r.Contains("/manifests/sha256:", StringComparison.Ordinal)).Should().ContainSingle("only the first referrer fits:\n" + string.Join('\n', reads))
            .Which.Should().Contain(listed[0].Digest);
    }

    public enum HeldBack
    {
        None,
        CosignTag,
        Referrers,
    }

    private RegistryClient Client(TimeProvider time) => new(
        RegistryAccessPolicy.AllowOnly([registry.Registry.Registry]),
        new RegistryClientOptions
        {
            Registries = { [registry.Registry.Registry] = new RegistryOptions { Insecure = true, MaxRetries = 0 } },
            ReferrersApiRecheckInterval = Recheck,
        },
        timeProvider: time,
        metrics: new RegistryMetrics(Prometheus.Metrics.NewCustomRegistry()));

    private async Task<(IReadOnlyList<SignatureCandidate> Candidates, IReadOnlyList<string> Reads)> LookupAsync(IRegistryClient client, string digest)
    {
        var before = registry.Registry.AccessLog.Count;
        var candidates = await SignatureFinder.FindAsync(client, registry.Registry.Registry, ColdLookupRegistryFixture.Repository, digest, default);
        return (candidates, await registry.ReadsSinceAsync(before));
    }

    /// <summary>The real client, with the cosign tag or the referrers answer held back until the other one is in.</summary>
    private sealed class OrderingClient(IRegistryClient inner, HeldBack held) : IRegistryClient
    {
        private readonly TaskCompletionSource tagDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource referrersDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<RegistryManifest> GetManifestAsync(string registry, string repository, string reference, CancellationToken cancellationToken)
        {
            if (!reference.EndsWith(".sig", StringComparison.Ordinal))
            {
                return await inner.GetManifestAsync(registry, repository, reference, cancellationToken);
            }

            if (held == HeldBack.CosignTag)
            {
                await referrersDone.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            }

            try
            {
                return await inner.GetManifestAsync(registry, repository, reference, cancellationToken);
            }
            finally
            {
                tagDone.TrySetResult();
            }
        }

        public async Task<IReadOnlyList<Descriptor>> GetReferrersAsync(string registry, string repository, string digest, string? artifactType, CancellationToken cancellationToken)
        {
            if (held == HeldBack.Referrers)
            {
                await tagDone.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            }

            try
            {
                return await inner.GetReferrersAsync(registry, repository, digest, artifactType, cancellationToken);
            }
            finally
            {
                referrersDone.TrySetResult();
            }
        }

        public Task<string> ResolveDigestAsync(string registry, string repository, string tag, CancellationToken cancellationToken) =>
            inner.ResolveDigestAsync(registry, repository, tag, cancellationToken);

        public Task<byte[]> GetBlobAsync(string registry, string repository, string digest, long? maxBytes, CancellationToken cancellationToken) =>
            inner.GetBlobAsync(registry, repository, digest, maxBytes, cancellationToken);
    }
}
