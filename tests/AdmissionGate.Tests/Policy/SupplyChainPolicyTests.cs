using System.Text.RegularExpressions;
using AdmissionGate.Checks;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Tests.Checks.Signatures;
using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Decisions.GateEngineTests;

namespace AdmissionGate.Tests.Policy;

/// <summary>
/// examples/policies/supply-chain.yaml, which policies/default.yaml points at, on sample pods. Its internal Harbor is
/// replaced by a real docker-registry (plain HTTP, as spec.registries allows for test registries) so that the
/// signature and scan rules judge real images; nothing else in the file changes.
/// </summary>
public sealed class SupplyChainPolicyTests(SignedRegistryFixture registry) : IClassFixture<SignedRegistryFixture>
{
    private static string ExampleText => File.ReadAllText(Path.Combine(PolicyLoaderTests.RepositoryRoot(), "examples", "policies", "supply-chain.yaml"));

    private string Host => registry.Registry.Registry;

    private CompiledPolicy Load()
    {
        var text = ExampleText.Replace("harbor.corp.example", Host, StringComparison.Ordinal)
            .Replace("spec:\n", $"spec:\n  registries:\n    \"{Host}\": {{insecure: true, timeoutSeconds: 2}}\n", StringComparison.Ordinal);
        return PolicyLoader.LoadText(text, Path.Combine(registry.Directory, "supply-chain.yaml"));
    }

    private async Task<Decision> EvaluateAsync(string ns, string image)
    {
        var (engine, _) = SignatureTestPolicy.Engine(Load());
        return await engine.EvaluateAsync(Pod(ns, new { containers = new[] { new { name = "app", image } } }), default);
    }

    [Fact]
    public void The_example_validates_and_is_what_the_default_policy_points_at()
    {
        var policy = PolicyLoader.LoadFile(Path.Combine(PolicyLoaderTests.RepositoryRoot(), "examples", "policies", "supply-chain.yaml"));

        PolicyLoader.EmbeddedDefaultText.Should().Contain("examples/policies/supply-chain.yaml");
        policy.Name.Should().Be("supply-chain");
        policy.Tiers[Tier.Production].RequirePinning.Should().BeTrue();
        policy.Tiers[Tier.Production].Vulnerabilities!.RequireSbom.Should().BeTrue();
        policy.Grants.Should().OnlyContain(g => g.ExpiresAt != null, "mandatory expiry");
    }

    [Theory]
    [InlineData("payments-prod", "production")]
    [InlineData("staging", "staging")]
    public async Task A_public_registry_is_denied_in_production_and_staging(string ns, string tier)
    {
        var decision = await EvaluateAsync(ns, "docker.io/library/nginx:1.27");

        decision.Verdict.Should().Be(Verdict.Deny);
        decision.Reason.Should().Be(RuleNames.ApprovedRegistry);
        decision.Message.Should().Contain($"docker.io/library/nginx:1.27 is not from a registry approved for tier {tier}");
    }

    [Fact]
    public async Task An_unapproved_registry_is_denied_even_in_dev()
    {
        var decision = await EvaluateAsync("team-a", "quay.io/acme/app:1.0");

        decision.Verdict.Should().Be(Verdict.Deny, "dev's unapproved: * is enforce");
    }

    [Fact]
    public async Task An_unsigned_production_image_is_denied_by_the_release_pipeline_rule_and_the_missing_scan()
    {
        var decision = await EvaluateAsync("payments-prod", registry.Pinned("unsigned"));

        decision.Verdict.Should().Be(Verdict.Deny);
        decision.Message.Should().Contain($"fails signature rule \"release-pipeline\" (any of release-pipeline): authority \"release-pipeline\": no signature found for {registry.Digests["unsigned"]}");
        decision.Findings.Should().Contain(f => f.Rule == RuleNames.Vulnerability && f.Effect == Effect.Deny, "production's missingScan is deny");
    }

    [Fact]
    public async Task An_image_signed_by_another_identity_is_denied_in_production()
    {
        var decision = await EvaluateAsync("payments-prod", registry.Pinned("legacy"));

        decision.Verdict.Should().Be(Verdict.Deny);
        decision.Message.Should().Contain("fails signature rule \"release-pipeline\"");
    }

    [Fact]
    public async Task An_unpinned_production_image_is_denied()
    {
        var decision = await EvaluateAsync("payments-prod", registry.Image("legacy"));

        decision.Verdict.Should().Be(Verdict.Deny);
        decision.Message.Should().Contain($"{registry.Image("legacy")} is not pinned to a digest, which tier production requires");
    }

    [Fact]
    public async Task The_blocked_repository_is_denied_in_dev_and_the_payments_project_outside_its_namespaces()
    {
        var blocked = await EvaluateAsync("team-a", $"{Host}/tools/xz-utils:5.6.1");
        var granted = await EvaluateAsync("staging", $"{Host}/payments/api@{registry.Digests["unsigned"]}");

        blocked.Verdict.Should().Be(Verdict.Deny);
        blocked.Message.Should().Contain("CVE-2024-3094 backdoored build");
        granted.Verdict.Should().Be(Verdict.Deny);
        Regex.IsMatch(granted.Message!, "granted only to namespaces payments, payments-\\*, not staging").Should().BeTrue(granted.Message);
    }
}
