using System.Text.Json;
using AdmissionGate.Audit;
using AdmissionGate.Checks;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Tests.Checks.Signatures;
using AdmissionGate.Tests.Cli;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Decisions.GateEngineTests;

namespace AdmissionGate.Tests.Policy;

/// <summary><c>spec.blocked</c>: incident containment in every tier, through the real HTTPS webhook.</summary>
public sealed class BlockedTests
{
    private static readonly string BadDigest = "sha256:" + new string('a', 64);
    private static readonly string OtherDigest = "sha256:" + new string('b', 64);
    private static readonly string AnywhereDigest = "sha256:" + new string('c', 64);

    /// <summary>The core policy with blocked entries and an exception that would waive everything else for nginx.</summary>
    internal static string Policy() => TestPolicies.GateCoreText.Replace("spec:\n", $$"""
        spec:
          blocked:
            - {match: ghcr.io/acme/miner, reason: "INC-4711 cryptominer in the build", owner: security@acme.example}
            - {match: quay.io, reason: "registry compromised", owner: platform@acme.example}
            - {match: "registry.example.com/payments/api@{{BadDigest}}", reason: "INC-4712 leaked secrets in a layer", owner: payments@acme.example}
            - {match: "{{AnywhereDigest}}", reason: "INC-4713 backdoored base layer", owner: security@acme.example}
            - {match: docker.io/library/nginx, reason: "INC-4714 vulnerable build", owner: web@acme.example}
          exceptions:
            - name: nginx-everything
              reason: a waiver that must not beat a block
              owner: web@acme.example
              expires: 2999-12-31
              rules: [approved-registry, registry-grant, signature, pinning, vulnerability]

        """, StringComparison.Ordinal);

    public static TheoryData<string, string, string> Blocked => new()
    {
        { "team-a", "ghcr.io/acme/miner:1.0", "blocked by policy entry \"ghcr.io/acme/miner\" (owner security@acme.example): INC-4711 cryptominer in the build" },
        { "staging", "ghcr.io/acme/miner/sub:1.0", "blocked by policy entry \"ghcr.io/acme/miner\"" },
        { "payments-prod", "quay.io/acme/report:2.1", "blocked by policy entry \"quay.io\" (owner platform@acme.example): registry compromised" },
        { "payments-prod", "registry.example.com/payments/api@" + BadDigest, "blocked by policy entry \"registry.example.com/payments/api@" + BadDigest + "\" (owner payments@acme.example): INC-4712" },
        { "team-a", "registry.example.com/payments/api:1.0@" + BadDigest, "INC-4712 leaked secrets in a layer" },
        { "staging", "registry.example.com/other@" + AnywhereDigest, "blocked by policy entry \"" + AnywhereDigest + "\" (owner security@acme.example): INC-4713" },
        { "team-a", "busybox@" + AnywhereDigest, "docker.io/library/busybox@" + AnywhereDigest + " is blocked by policy entry \"" + AnywhereDigest + "\"" },
        { "team-a", "nginx:1.27", "docker.io/library/nginx:1.27 is blocked by policy entry \"docker.io/library/nginx\" (owner web@acme.example): INC-4714 vulnerable build" },
    };

    [Theory]
    [MemberData(nameof(Blocked))]
    public async Task A_blocked_entry_is_denied_in_every_tier_whatever_its_mode_and_exceptions(string ns, string image, string expected)
    {
        await using var gate = await GateServerFixture.StartAsync(Policy());

        var answer = await gate.ReviewAsync(AdmissionReviewBuilder.Pod(ns, "api").WithContainer("app", image));

        answer.Allowed.Should().BeFalse(answer.Body);
        answer.Code.Should().Be(403);
        answer.Message.Should().Contain(expected);
        answer.Audit("reason").Should().Be(RuleNames.Blocked);
    }

    [Fact]
    public async Task Other_digests_of_a_blocked_digest_repository_and_neighbouring_repositories_are_not_blocked()
    {
        await using var gate = await GateServerFixture.StartAsync(Policy());

        var sameRepository = await gate.ReviewAsync(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("app", "registry.example.com/payments/api@" + OtherDigest));
        var neighbour = await gate.ReviewAsync(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("app", "ghcr.io/acme/miner-tools@" + OtherDigest));
        var otherRepository = await gate.ReviewAsync(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("app", "registry.example.com/payments/web@" + BadDigest));

        sameRepository.Allowed.Should().BeTrue(sameRepository.Body);
        neighbour.Allowed.Should().BeTrue(neighbour.Body);
        otherRepository.Allowed.Should().BeTrue("a repository@digest entry blocks the digest in that repository only: " + otherRepository.Body);
    }

    [Fact]
    public async Task An_update_that_keeps_a_blocked_image_is_still_denied()
    {
        await using var gate = await GateServerFixture.StartAsync(Policy());

        var answer = await gate.ReviewAsync(AdmissionReviewBuilder.Pod("payments-prod", "report").WithContainer("report", "quay.io/acme/report:2.1").Update("quay.io/acme/report:2.1"));

        answer.Allowed.Should().BeFalse("containment holds for running workloads too: " + answer.Body);
        answer.Warnings.Should().BeEmpty();
    }

    [Fact]
    public async Task A_block_takes_effect_on_reload_and_is_counted_by_entry_and_tier()
    {
        await using var gate = await GateServerFixture.StartAsync();
        var pod = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("app", "ghcr.io/acme/miner:1.0");
        (await gate.ReviewAsync(pod)).Allowed.Should().BeTrue("the core policy approves ghcr.io/acme/ in production");

        var temporary = gate.PolicyPath + ".tmp";
        await File.WriteAllTextAsync(temporary, Policy());
        File.Move(temporary, gate.PolicyPath, overwrite: true);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        AdmissionAnswer answer;
        while ((answer = await gate.ReviewAsync(pod)).Allowed)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the reloaded policy blocks ghcr.io/acme/miner");
            await Task.Delay(50);
        }

        answer.Message.Should().Contain("INC-4711");
        Exposition.Parse(await gate.MetricsAsync())
            .Value("admission_gate_blocked_admissions_total", ("entry", "ghcr.io/acme/miner"), ("tier", "production")).Should().Be(1);
    }

    [Fact]
    public async Task The_audit_event_names_the_entry_its_reason_and_owner_and_matches_the_schema()
    {
        var policy = PolicyLoader.LoadText(Policy(), "blocked.yaml");
        var engine = new GateEngine(new StaticPolicyProvider(policy), CheckPipeline.Create(), TimeProvider.System);
        var request = Pod("team-a", new { containers = new[] { new { name = "web", image = "nginx:1.27" } } });

        var decision = await engine.EvaluateAsync(request, default);
        var evt = DecisionAuditEvent.Create(request, decision, "validate", DateTimeOffset.UtcNow);
        var line = AuditEventSerializer.ToJsonLine(evt, new AuditOrigin("gate-0", "0123456789abcdef"), 1);

        using var document = JsonDocument.Parse(line);
        AuditSchema.Document.Validate(document.RootElement).Should().BeEmpty();
        var rule = document.RootElement.GetProperty("containers")[0].GetProperty("rules")[0];
        rule.GetProperty("rule").GetString().Should().Be("blocked");
        rule.GetProperty("effect").GetString().Should().Be("deny");
        rule.GetProperty("blocked").GetProperty("entry").GetString().Should().Be("docker.io/library/nginx");
        rule.GetProperty("blocked").GetProperty("reason").GetString().Should().Be("INC-4714 vulnerable build");
        rule.GetProperty("blocked").GetProperty("owner").GetString().Should().Be("web@acme.example");
        decision.ExceptionsUsed.Should().BeEmpty("the exception covering nginx never waives a block");
        document.RootElement.GetProperty("containers")[0].GetProperty("rules").GetArrayLength().Should().Be(1, "a blocked image gets no further checks");
    }

    [Theory]
    [InlineData("\"*\"", "would block every image")]
    [InlineData("registry.example.com/app:1.0@sha256:" + "0000000000000000000000000000000000000000000000000000000000000000", "names a tag")]
    [InlineData("sha256:abc", "invalid digest")]
    [InlineData("library/nginx", "must start with a registry host")]
    public void Entries_that_cannot_be_matched_are_rejected_at_their_position(string match, string error)
    {
        var text = Policy().Replace("- {match: quay.io,", $"- {{match: {match},", StringComparison.Ordinal);

        var load = () => PolicyLoader.LoadText(text, "blocked.yaml");

        load.Should().Throw<PolicyLoadException>().Which.Errors.Should().ContainSingle(e => e.Pointer == "/spec/blocked/1/match" && e.Message.Contains(error) && e.Position.Line == 13);
    }

    [Fact]
    public void No_exception_can_name_the_blocked_rule_and_an_entry_needs_a_reason_and_an_owner()
    {
        var exception = () => PolicyLoader.LoadText(Policy().Replace("rules: [approved-registry,", "rules: [blocked, approved-registry,", StringComparison.Ordinal), "x.yaml");
        var owner = () => PolicyLoader.LoadText(Policy().Replace(", owner: platform@acme.example}", "}", StringComparison.Ordinal), "x.yaml");

        exception.Should().Throw<PolicyLoadException>().Which.Errors.Should().Contain(e => e.Pointer.StartsWith("/spec/exceptions/0/rules", StringComparison.Ordinal));
        owner.Should().Throw<PolicyLoadException>().Which.Errors.Should().Contain(e => e.Pointer == "/spec/blocked/1");
    }
}

/// <summary>
/// A blocked digest named by tag: the gate resolves the tag at the (real docker-)registry, because a digest entry
/// could apply to the repository, and both doors deny it; a tag of another digest is admitted.
/// </summary>
public sealed class BlockedDigestByTagOverHttpsTests(SignedRegistryFixture registry) : IClassFixture<SignedRegistryFixture>
{
    private string Policy()
    {
        var path = SignatureTestPolicy.Write(registry);
        var entry = $"{registry.Registry.Registry}/{SignedRegistryFixture.Repository}@{registry.Digests["unsigned"]}";
        File.WriteAllText(path, File.ReadAllText(path).Replace("spec:\n", $"spec:\n  blocked:\n    - {{match: \"{entry}\", reason: INC-4720 leaked token, owner: sre@acme.example}}\n", StringComparison.Ordinal));
        return path;
    }

    [Theory]
    [InlineData("team-a")]
    [InlineData("staging")]
    [InlineData("payments-prod")]
    public async Task A_tag_that_resolves_to_a_blocked_digest_is_denied_by_check_and_the_webhook_alike(string ns)
    {
        var policy = Policy();
        await using var gate = await GateServerFixture.StartAsync(configureOptions: o => o.PolicyPath = policy);

        var answer = await OneEngineTests.AssertSameAsync(gate, policy, ns, OneEngineTests.PodManifest(registry.Image("unsigned")));

        answer.Allowed.Should().BeFalse(answer.Body);
        answer.Message.Should().Contain($"{registry.Image("unsigned")} ({registry.Digests["unsigned"]}) is blocked by policy entry")
            .And.Contain("(owner sre@acme.example): INC-4720 leaked token");
    }

    [Fact]
    public async Task A_tag_of_another_digest_in_the_same_repository_is_admitted()
    {
        var policy = Policy();
        await using var gate = await GateServerFixture.StartAsync(configureOptions: o => o.PolicyPath = policy);

        var answer = await OneEngineTests.AssertSameAsync(gate, policy, "payments-prod", OneEngineTests.PodManifest(registry.Image("legacy")));

        answer.Allowed.Should().BeTrue(answer.Body);
    }
}
