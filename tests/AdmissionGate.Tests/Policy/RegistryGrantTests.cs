using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Tests.Decisions;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Policy;

public class RegistryGrantTests
{
    private const string PolicyWithGrants = """
        apiVersion: admission-gate.io/v1alpha1
        kind: GatePolicy
        metadata: {name: grants}
        spec:
          namespaces:
            tierByName: [{tier: production, names: ["*-prod"]}]
          tiers:
            dev: {mode: warn, approved: [registry.example.com]}
            staging: {mode: enforce, approved: [registry.example.com]}
            production: {mode: enforce, approved: [registry.example.com]}
          grants:
            - {registry: registry.example.com/payments/, namespaces: ["payments-*"], reason: PCI scope}
            - {registry: registry.example.com/payments/shared/, namespaces: [reporting-prod]}
        """;

    private static readonly CompiledPolicy Policy = PolicyLoader.LoadText(PolicyWithGrants, "grants.yaml");

    private static Task<Decision> Judge(string ns, string image) =>
        GateEngineTests.Engine(Policy).EvaluateAsync(GateEngineTests.Pod(ns, new { containers = new[] { new { name = "app", image } } }), default).AsTask();

    [Fact]
    public async Task A_granted_namespace_may_use_the_registry()
    {
        (await Judge("payments-prod", "registry.example.com/payments/api:1")).Verdict.Should().Be(Verdict.Allow);
    }

    [Fact]
    public async Task A_namespace_outside_the_grant_is_denied_with_the_reason()
    {
        var decision = await Judge("shop-prod", "registry.example.com/payments/api:1");

        decision.Allowed.Should().BeFalse();
        decision.Reason.Should().Be(RuleNames.RegistryGrant);
        decision.Message.Should().Contain("granted only to namespaces payments-*").And.Contain("not shop-prod")
            .And.Contain("grant registry.example.com to namespace shop-prod");
    }

    [Fact]
    public async Task Grants_for_the_same_image_add_up()
    {
        (await Judge("reporting-prod", "registry.example.com/payments/shared/lib:1")).Verdict.Should().Be(Verdict.Allow);
        (await Judge("payments-prod", "registry.example.com/payments/shared/lib:1")).Verdict.Should().Be(Verdict.Allow);
        (await Judge("shop-prod", "registry.example.com/payments/shared/lib:1")).Allowed.Should().BeFalse();
    }

    [Fact]
    public async Task Images_outside_every_grant_are_unaffected_and_the_tier_mode_applies_to_grant_violations()
    {
        (await Judge("shop-prod", "registry.example.com/shop/web:1")).Verdict.Should().Be(Verdict.Allow);
        (await Judge("team-a", "registry.example.com/payments/api:1")).Verdict.Should().Be(Verdict.Warn, "dev is in warn mode");
    }

    [Fact]
    public async Task A_grant_grants_through_its_expiry_day_and_then_denies_naming_the_expiry_while_still_restricting()
    {
        var policy = PolicyLoader.LoadText(PolicyWithGrants.Replace("reason: PCI scope}", "reason: PCI scope, expires: 2026-06-30}", StringComparison.Ordinal), "grants.yaml");
        var clock = new AdmissionGate.Tests.TestSupport.ManualClock(new DateTimeOffset(2026, 6, 30, 23, 59, 0, TimeSpan.Zero));
        var engine = new GateEngine(new StaticPolicyProvider(policy), AdmissionGate.Checks.CheckPipeline.Create(time: clock), clock);
        Task<Decision> JudgeAt(string ns) => engine.EvaluateAsync(GateEngineTests.Pod(ns, new { containers = new[] { new { name = "app", image = "registry.example.com/payments/api:1" } } }), default).AsTask();

        (await JudgeAt("payments-prod")).Verdict.Should().Be(Verdict.Allow, "the grant applies through the end of its expiry day");
        clock.Advance(TimeSpan.FromMinutes(1));
        var expired = await JudgeAt("payments-prod");
        var outside = await JudgeAt("web-prod");

        expired.Verdict.Should().Be(Verdict.Deny);
        expired.Message.Should().Contain("registry.example.com/payments/api:1 is approved for tier production, but the grant of registry.example.com/payments/ to namespace payments-prod expired on 2026-06-30");
        outside.Verdict.Should().Be(Verdict.Deny, "an expired grant does not open its registry to everyone");
        outside.Message.Should().Contain("granted only to namespaces payments-*");
    }
}
