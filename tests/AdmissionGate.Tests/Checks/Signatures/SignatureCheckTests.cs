using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Decisions.GateEngineTests;

namespace AdmissionGate.Tests.Checks.Signatures;

public sealed class SignatureCheckTests(SignedRegistryFixture registry) : IClassFixture<SignedRegistryFixture>
{
    private static object Containers(params string[] images) => new { containers = images.Select((image, i) => new { name = "c" + i, image }).ToArray() };

    private async Task<Decision> Evaluate(string image, CompiledPolicy? policy = null, string ns = "payments-prod")
    {
        var (engine, _) = SignatureTestPolicy.Engine(policy ?? SignatureTestPolicy.Load(registry));
        return await engine.EvaluateAsync(Pod(ns, Containers(image)), default);
    }

    [Theory]
    [InlineData("legacy")]
    [InlineData("bundle")]
    public async Task Images_signed_by_the_authority_as_cosign_sig_or_bundle_referrer_are_admitted_in_production(string tag)
    {
        var decision = await Evaluate(registry.Pinned(tag));

        decision.Verdict.Should().Be(Verdict.Allow, decision.Message);
    }

    [Fact]
    public async Task The_audit_trail_records_which_rule_verified_which_resolved_digest()
    {
        var request = Pod("payments-prod", Containers(registry.Image("legacy")));
        var (engine, _) = SignatureTestPolicy.Engine(SignatureTestPolicy.Load(registry));
        var decision = await engine.EvaluateAsync(request, default);

        var container = AdmissionGate.Audit.DecisionAuditEvent.Create(request, decision, "validate", DateTimeOffset.UtcNow).Containers.Should().ContainSingle().Subject;

        container.Digest.Should().Be(registry.Digests["legacy"]);
        container.DigestSource.Should().Be("resolved", "the audit schema names a tag resolved at the registry \"resolved\"");
        container.Signature!.Result.Should().Be("verified");
        container.Signature.Authority.Should().Be("release");
        container.Decision.Should().Be("allow");
        decision.Warnings.Should().BeEmpty("a passed check changes nothing in the answer");
    }

    [Fact]
    public async Task A_tag_is_resolved_to_its_digest_before_verification()
    {
        (await Evaluate(registry.Image("legacy"))).Verdict.Should().Be(Verdict.Allow);

        var denied = await Evaluate(registry.Image("unsigned"));
        denied.Allowed.Should().BeFalse();
        denied.Message.Should().Contain(registry.Digests["unsigned"], "a denial names the resolved digest");
    }

    [Fact]
    public async Task An_unsigned_image_is_denied_naming_the_rule_authority_and_digest()
    {
        var decision = await Evaluate(registry.Pinned("unsigned"));

        decision.Allowed.Should().BeFalse();
        decision.Reason.Should().Be(RuleNames.Signature);
        decision.Message.Should().Contain("signature rule \"release\"")
            .And.Contain($"authority \"ci\": no signature found for {registry.Digests["unsigned"]}");
    }

    [Fact]
    public async Task A_signature_by_another_identity_is_denied_saying_whose_it_is()
    {
        var decision = await Evaluate(registry.Pinned("wrong-identity"));

        decision.Allowed.Should().BeFalse();
        decision.Message.Should().Contain("authority \"ci\": no signature verifies (1 signature(s) found:")
            .And.Contain("certificate identity")
            .And.Contain(SignedRegistryFixture.OtherIdentity);
    }

    [Fact]
    public async Task A_genuine_signature_of_another_image_replayed_onto_this_one_is_denied()
    {
        var decision = await Evaluate(registry.Pinned("tampered"));

        decision.Allowed.Should().BeFalse();
        decision.Message.Should().Contain($"the payload is for {registry.Digests["legacy"]}, not {registry.Digests["tampered"]}");
    }

    [Fact]
    public async Task A_key_authority_rejects_keyless_signatures_and_says_why()
    {
        var policy = SignatureTestPolicy.Load(registry, authorities: SignatureTestPolicy.KeyAuthority());

        var decision = await Evaluate(registry.Pinned("legacy"), policy);

        decision.Allowed.Should().BeFalse();
        decision.Message.Should().Contain("authority \"release-key\": no signature verifies").And.Contain("policy expects a public key");
    }

    [Fact]
    public async Task AllOf_needs_every_authority_and_anyOf_one()
    {
        string[] authorities = [SignatureTestPolicy.KeylessAuthority(), SignatureTestPolicy.KeyAuthority()];

        var allOf = await Evaluate(registry.Pinned("bundle"), SignatureTestPolicy.Load(registry, "allOf", authorities: authorities));
        var anyOf = await Evaluate(registry.Pinned("bundle"), SignatureTestPolicy.Load(registry, "anyOf", authorities: authorities));

        allOf.Allowed.Should().BeFalse();
        allOf.Message.Should().Contain("all of ci, release-key").And.Contain("authority \"release-key\"").And.NotContain("authority \"ci\":");
        anyOf.Verdict.Should().Be(Verdict.Allow, anyOf.Message);
    }

    [Fact]
    public async Task Images_outside_the_rule_and_tiers_without_rules_are_not_looked_up()
    {
        // registry.example.com is approved but has no rule and no network: it must stay allowed.
        (await Evaluate("registry.example.com/payments/api@sha256:6b1f8a3c2d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e")).Verdict.Should().Be(Verdict.Allow);
        (await Evaluate(registry.Pinned("unsigned"), ns: "team-dev")).Verdict.Should().Be(Verdict.Allow);
    }

    [Fact]
    public async Task Concurrent_admissions_of_one_new_image_make_one_signature_lookup()
    {
        var (engine, verifier) = SignatureTestPolicy.Engine(SignatureTestPolicy.Load(registry));

        var decisions = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(async () => await engine.EvaluateAsync(Pod("payments-prod", Containers(registry.Pinned("crowd"))), default))));

        decisions.Should().OnlyContain(d => d.Verdict == Verdict.Allow);
        verifier.Metrics.RegistryLookups.Should().Be(1);
        verifier.Metrics.SingleFlightJoins.Should().BeGreaterThan(0);

        // The registry logs failed requests: each lookup asks once for the (absent) referrers tag of the digest.
        var referrersTag = "http.request.uri=/v2/app/manifests/" + registry.Digests["crowd"].Replace(':', '-') + " ";
        registry.Registry.RecentLog.Split('\n').Count(line => line.Contains(referrersTag, StringComparison.Ordinal))
            .Should().Be(1, "the registry saw one referrers lookup:\n" + registry.Registry.RecentLog);
    }
}
