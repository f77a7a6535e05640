using System.Text.Json;
using AdmissionGate.Admission;
using AdmissionGate.Checks;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Tests.TestSupport;
using AdmissionGate.Workloads;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Decisions;

public class GateEngineTests
{
    private const string Digest = "sha256:6b1f8a3c2d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e";

    private static readonly ManualClock Clock = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));

    internal static GateEngine Engine(CompiledPolicy? policy = null, TimeProvider? time = null) =>
        new(new StaticPolicyProvider(policy ?? TestPolicies.GateCore()), CheckPipeline.Create(), time ?? Clock);

    internal static GateRequest Pod(string ns, object spec, AdmissionOperation operation = AdmissionOperation.Create, object? oldSpec = null, IReadOnlyDictionary<string, string>? labels = null) => new()
    {
        Uid = Guid.NewGuid().ToString(),
        Operation = operation,
        KindName = "Pod",
        Kind = WorkloadReader.FindKind(string.Empty, "Pod"),
        Namespace = ns,
        Name = "api",
        Object = JsonSerializer.SerializeToElement(new { apiVersion = "v1", kind = "Pod", metadata = new { name = "api", @namespace = ns }, spec }),
        OldObject = oldSpec is null ? default : JsonSerializer.SerializeToElement(new { apiVersion = "v1", kind = "Pod", metadata = new { name = "api", @namespace = ns }, spec = oldSpec }),
        NamespaceLabels = labels,
    };

    private static object Containers(params string[] images) => new { containers = images.Select((image, i) => new { name = "c" + i, image }).ToArray() };

    [Fact]
    public async Task Docker_Hub_official_image_in_a_dev_namespace_is_allowed_with_a_warning()
    {
        var decision = await Engine().EvaluateAsync(Pod("team-a", Containers("nginx:1.27")), default);

        decision.Allowed.Should().BeTrue();
        decision.Verdict.Should().Be(Verdict.Warn);
        decision.Tier.Should().Be(Tier.Dev);
        decision.Warnings.Should().ContainSingle().Which.Should().Contain("docker.io/library/nginx:1.27").And.Contain("dev only");
    }

    [Fact]
    public async Task The_same_image_in_a_production_namespace_is_denied_naming_the_normalised_image_rule_tier_and_fix()
    {
        var decision = await Engine().EvaluateAsync(Pod("payments-prod", Containers("nginx:1.27")), default);

        decision.Allowed.Should().BeFalse();
        decision.Code.Should().Be(403);
        decision.Reason.Should().Be(RuleNames.ApprovedRegistry);
        decision.Message.Should().Contain("Pod payments-prod/api")
            .And.Contain("container \"c0\"")
            .And.Contain("docker.io/library/nginx:1.27")
            .And.Contain("tier production")
            .And.Contain("[rule approved-registry]")
            .And.Contain("Fix: use an image from a registry approved for tier production: registry.example.com, ghcr.io/acme/");
    }

    [Fact]
    public async Task An_unapproved_init_container_is_denied_naming_the_init_container()
    {
        var spec = new
        {
            initContainers = new[] { new { name = "setup", image = "quay.io/evil/miner:latest" } },
            containers = new[] { new { name = "api", image = "registry.example.com/payments/api@" + Digest } },
        };

        var decision = await Engine().EvaluateAsync(Pod("payments-prod", spec), default);

        decision.Allowed.Should().BeFalse();
        decision.Message.Should().Contain("init container \"setup\": quay.io/evil/miner:latest");
        decision.Findings.Should().ContainSingle(f => f.Effect == Effect.Deny).Which.Container.List.Should().Be(ContainerListKind.Init);
    }

    [Fact]
    public async Task Unapproved_registries_other_than_Docker_Hub_are_denied_even_in_dev()
    {
        var decision = await Engine().EvaluateAsync(Pod("team-a", Containers("quay.io/evil/miner:latest")), default);

        decision.Allowed.Should().BeFalse();
        decision.Message.Should().Contain("tier dev");
    }

    [Fact]
    public async Task Other_Docker_Hub_images_only_warn_in_dev()
    {
        var decision = await Engine().EvaluateAsync(Pod("team-a", Containers("someuser/tool:1")), default);

        decision.Verdict.Should().Be(Verdict.Warn);
        decision.Warnings.Should().ContainSingle().Which.Should().Contain("docker.io/someuser/tool:1").And.Contain("mode warn");
    }

    [Theory]
    [InlineData("team-a", Tier.Dev)]
    [InlineData("staging", Tier.Staging)]
    [InlineData("web-staging", Tier.Staging)]
    [InlineData("payments-prod", Tier.Production)]
    [InlineData("prod", Tier.Production)]
    [InlineData("shop-production", Tier.Production)]
    public async Task An_approved_image_pinned_by_digest_is_allowed_in_every_tier(string ns, Tier tier)
    {
        var decision = await Engine().EvaluateAsync(Pod(ns, Containers("registry.example.com/payments/api@" + Digest, "ghcr.io/acme/migrate:v3")), default);

        decision.Verdict.Should().Be(Verdict.Allow);
        decision.Tier.Should().Be(tier);
        decision.Message.Should().BeNull();
        decision.Warnings.Should().BeEmpty();
    }

    [Fact]
    public async Task Every_violation_is_reported_not_only_the_first()
    {
        var decision = await Engine().EvaluateAsync(Pod("payments-prod", Containers("nginx:1.27", "quay.io/a/b:1", "redis:7")), default);

        decision.Findings.Count(f => f.Effect == Effect.Deny).Should().Be(3);
        decision.Message!.Split('\n').Should().HaveCount(4);
    }

    [Fact]
    public async Task The_tier_label_wins_over_the_namespace_name()
    {
        var labels = new Dictionary<string, string> { ["admission-gate.io/tier"] = "production" };

        var decision = await Engine().EvaluateAsync(Pod("team-a", Containers("nginx:1.27"), labels: labels), default);

        decision.Tier.Should().Be(Tier.Production);
        decision.Allowed.Should().BeFalse();
        decision.Message.Should().Contain("label admission-gate.io/tier=production");
    }

    [Fact]
    public async Task A_misspelt_tier_label_is_judged_as_production_and_says_so()
    {
        var labels = new Dictionary<string, string> { ["admission-gate.io/tier"] = "prodution" };

        var decision = await Engine().EvaluateAsync(Pod("team-a", Containers("registry.example.com/a:1"), labels: labels), default);

        decision.Tier.Should().Be(Tier.Production);
        decision.Warnings.Should().ContainSingle().Which.Should().Contain("prodution").And.Contain("judged as production");
    }

    [Theory]
    [InlineData("kube-system")]
    [InlineData("kube-public")]
    [InlineData("kube-node-lease")]
    [InlineData("admission-gate")]
    public async Task Exempt_namespaces_are_not_judged(string ns)
    {
        var decision = await Engine().EvaluateAsync(Pod(ns, Containers("quay.io/evil/miner:latest")), default);

        decision.Verdict.Should().Be(Verdict.Allow);
        decision.Reason.Should().Be(DecisionReasons.ExemptNamespace);
    }

    [Fact]
    public async Task On_update_an_image_already_in_the_old_object_is_warned_about_not_denied()
    {
        var request = Pod("payments-prod", Containers("nginx:1.27"), AdmissionOperation.Update, oldSpec: Containers("nginx:1.27"));

        var decision = await Engine().EvaluateAsync(request, default);

        decision.Verdict.Should().Be(Verdict.Warn);
        decision.Warnings.Should().ContainSingle().Which.Should().Contain("unchanged by this update");
    }

    [Fact]
    public async Task On_update_a_changed_image_is_judged_in_full()
    {
        var request = Pod("payments-prod", Containers("nginx:1.28"), AdmissionOperation.Update, oldSpec: Containers("nginx:1.27"));

        var decision = await Engine().EvaluateAsync(request, default);

        decision.Allowed.Should().BeFalse();
        decision.Message.Should().Contain("docker.io/library/nginx:1.28");
    }

    [Theory]
    [InlineData(AdmissionOperation.Delete)]
    [InlineData(AdmissionOperation.Connect)]
    public async Task Delete_and_connect_are_not_judged(AdmissionOperation operation)
    {
        var decision = await Engine().EvaluateAsync(Pod("payments-prod", Containers("nginx:1.27"), operation), default);

        decision.Allowed.Should().BeTrue();
        decision.Reason.Should().Be(DecisionReasons.OperationNotJudged);
    }

    [Fact]
    public async Task A_malformed_image_reference_is_a_violation_naming_the_container_and_the_reason()
    {
        var decision = await Engine().EvaluateAsync(Pod("payments-prod", Containers("Registry.Example.com/UPPER/case:1")), default);

        decision.Allowed.Should().BeFalse();
        decision.Message.Should().Contain("container \"c0\"").And.Contain("not a valid image reference").And.Contain("[rule image-reference]");
    }

    [Fact]
    public async Task An_object_whose_image_is_not_a_string_is_a_bad_request_naming_the_path()
    {
        var decision = await Engine().EvaluateAsync(Pod("payments-prod", new { containers = new[] { new { name = "x", image = 42 } } }), default);

        decision.Allowed.Should().BeFalse();
        decision.Code.Should().Be(400);
        decision.Message.Should().Contain("spec.containers.0.image must be a string");
    }

    [Fact]
    public async Task A_workload_without_a_pod_template_is_a_bad_request()
    {
        var request = new GateRequest
        {
            Uid = "u",
            Operation = AdmissionOperation.Create,
            KindName = "apps/Deployment",
            Kind = WorkloadReader.FindKind("apps", "Deployment"),
            Namespace = "staging",
            Name = "web",
            Object = JsonSerializer.SerializeToElement(new { kind = "Deployment", spec = new { replicas = 1 } }),
        };

        var decision = await Engine().EvaluateAsync(request, default);

        decision.Code.Should().Be(400);
        decision.Message.Should().Contain("spec.template");
    }

    [Fact]
    public async Task A_kind_the_gate_does_not_judge_is_allowed_with_a_warning_naming_it()
    {
        var request = new GateRequest { Uid = "u", Operation = AdmissionOperation.Create, KindName = "ConfigMap", Kind = null, Namespace = "payments-prod", Object = JsonSerializer.SerializeToElement(new { kind = "ConfigMap" }) };

        var decision = await Engine().EvaluateAsync(request, default);

        decision.Allowed.Should().BeTrue();
        decision.Reason.Should().Be(DecisionReasons.UnsupportedKind);
        decision.Warnings.Should().ContainSingle().Which.Should().Contain("ConfigMap");
    }

    [Fact]
    public async Task An_approved_registry_with_an_overlong_repository_name_is_still_denied()
    {
        var image = "registry.example.com/" + new string('a', 300) + ":1";

        var decision = await Engine().EvaluateAsync(Pod("payments-prod", Containers(image)), default);

        decision.Allowed.Should().BeFalse();
        decision.Reason.Should().Be(RuleNames.ImageReference);
    }
}
