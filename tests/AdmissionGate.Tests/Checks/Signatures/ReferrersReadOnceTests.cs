using AdmissionGate.Checks;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Registry;
using AdmissionGate.Scans;
using AdmissionGate.Tests.Scans;
using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Decisions.GateEngineTests;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>
/// A tier with signature rules and a vulnerability gate on scan attestations reads an image's referrers once per
/// cold decision, not once for the signatures and again for the attestations; counted in the real docker-registry's
/// access log (distribution 2.8: no referrers API, so the referrers tag schema).
/// </summary>
public sealed class ReferrersReadOnceTests(ColdLookupRegistryFixture registry) : IClassFixture<ColdLookupRegistryFixture>
{
    [Fact]
    public async Task A_cold_decision_with_signature_and_attestation_scan_rules_reads_the_referrers_once_and_decides_as_before()
    {
        var policy = PolicyLoader.LoadFile(SignatureTestPolicy.Write(registry.Registry.Registry, registry.Directory, "{insecure: true, timeoutSeconds: 2}",
            vulnerabilities: "{critical: deny, missingScan: warn}", authorities: SignatureTestPolicy.KeyAuthority("release-key", registry.PublicKeyPem)));
        // Before: the signature and the attestation lookups each read the referrers. A scan source with a registry
        // client of its own still does, so it decides as before and shows what the shared client saves.
        var apart = Engine(policy, sharedClient: false);
        var shared = Engine(policy, sharedClient: true);

        // The first decisions also learn that the registry lacks the referrers API (one 404 per registry client).
        foreach (var (apiProbes, apiProbesApart) in new[] { (1, 2), (0, 0) })
        {
            var digest = await registry.PushSignedAsync(sig: true, bundles: 1);
            var (before, readsBefore) = await DecideAsync(apart, digest);
            var (after, readsAfter) = await DecideAsync(shared, digest);

            (Api(readsBefore, digest), Tag(readsBefore, digest)).Should().Be((apiProbesApart, 2), string.Join('\n', readsBefore));
            (Api(readsAfter, digest), Tag(readsAfter, digest)).Should().Be((apiProbes, 1), "the attestation lookup reuses the signature lookup's answer:\n" + string.Join('\n', readsAfter));
            readsAfter.Should().HaveCount(readsBefore.Count - (apiProbesApart - apiProbes) - 1, "nothing else is read more or less");

            after.Verdict.Should().Be(Verdict.Warn, after.Message);
            after.Findings.Should().Contain(f => f.Rule == RuleNames.Signature && f.Kind == FindingKind.Passed);
            after.Warnings.Should().ContainSingle(w => w.Contains("no trusted vulnerability scan found", StringComparison.Ordinal));
            Describe(after).Should().Equal(Describe(before));
            (after.Message, after.Reason).Should().Be((before.Message, before.Reason));
            after.Warnings.Should().Equal(before.Warnings);
        }
    }

    [Fact]
    public async Task A_tier_that_does_not_approve_the_registry_is_refused_right_after_another_tier_read_its_referrers()
    {
        // Dev approves the test registry, staging does not.
        var policy = ScanTestPolicy.Load(registry.Directory, registry.Registry.Registry, scans: "{}");
        var registries = new PolicyRegistryClient(TimeProvider.System, new RegistryOptions { MaxRetries = 0 });
        var digest = await registry.PushSignedAsync(sig: true, bundles: 1);

        var listed = await registries.ForTier(policy, policy.Tiers[Tier.Dev]).GetReferrersAsync(registry.Registry.Registry, ColdLookupRegistryFixture.Repository, digest, null, default);
        var before = registry.Registry.AccessLog.Count;
        var staging = registries.ForTier(policy, policy.Tiers[Tier.Staging]);

        listed.Should().ContainSingle();
        await FluentActions.Awaiting(() => staging.GetReferrersAsync(registry.Registry.Registry, ColdLookupRegistryFixture.Repository, digest, null, default))
            .Should().ThrowAsync<RegistryAccessDeniedException>();
        (await registry.ReadsSinceAsync(before)).Should().BeEmpty();
    }

    /// <summary>The engine as the server composes it; with <paramref name="sharedClient"/> false the scan source gets a registry client of its own.</summary>
    private static GateEngine Engine(CompiledPolicy policy, bool sharedClient)
    {
        var registries = new PolicyRegistryClient(TimeProvider.System, new RegistryOptions { MaxRetries = 0 });
        var scans = new PolicyScanEvidenceProvider(sharedClient ? registries : new PolicyRegistryClient(TimeProvider.System, new RegistryOptions { MaxRetries = 0 }), TimeProvider.System);
        return new GateEngine(new StaticPolicyProvider(policy), CheckPipeline.Create(new SignatureVerifier(TimeProvider.System, new SignatureMetrics()), registries, scans), TimeProvider.System);
    }

    private async Task<(Decision Decision, IReadOnlyList<string> Reads)> DecideAsync(GateEngine engine, string digest)
    {
        var before = registry.Registry.AccessLog.Count;
        var decision = await engine.EvaluateAsync(Pod("payments-prod", new { containers = new[] { new { name = "app", image = registry.Pinned(digest) } } }), default);
        return (decision, await registry.ReadsSinceAsync(before));
    }

    /// <summary>Requests to the OCI referrers API for <paramref name="digest"/>.</summary>
    private static int Api(IReadOnlyList<string> reads, string digest) => reads.Count(r => r.Contains($"/referrers/{digest}", StringComparison.Ordinal));

    /// <summary>Reads of the referrers tag <c>sha256-&lt;hex&gt;</c> (not the cosign <c>.sig</c> / <c>.att</c> tags).</summary>
    private static int Tag(IReadOnlyList<string> reads, string digest) => reads.Count(r => r.Contains($"/manifests/{digest.Replace(':', '-')} ", StringComparison.Ordinal));

    private static IEnumerable<string> Describe(Decision decision) => decision.Findings.Select(f => $"{f.Container.Name} {f.Rule} {f.Kind} {f.Effect} {f.Digest}: {f.Message}");
}
