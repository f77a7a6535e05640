using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Admission;
using AdmissionGate.Checks;
using AdmissionGate.Checks.PullSecrets;
using AdmissionGate.Decisions;
using AdmissionGate.Mutations;
using AdmissionGate.Policy;
using AdmissionGate.Workloads;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Checks.PullSecrets;

/// <summary><c>tiers.*.manualPullSecrets</c> through the engine both doors share.</summary>
public class ManualPullSecretTests
{
    private const string Image = "registry.example.com/apps/api:1.0";

    /// <summary>The name the provisioner gives a JIT Secret (host, credential fingerprint, reuse window).</summary>
    private static readonly string JitName = JitSecretProvisioner.SecretName("registry.example.com", "fingerprint", 2_945_112);

    /// <summary>Production leaves manualPullSecrets out (the default, warn); staging is a warn-mode tier that denies them; dev allows them.</summary>
    public static string PolicyText => """
        apiVersion: admission-gate.io/v1alpha1
        kind: GatePolicy
        metadata:
          name: pull-secrets
        spec:
          namespaces:
            tierByName:
              - {tier: production, names: ["*-prod"]}
              - {tier: staging, names: ["*-staging"]}
            defaultTier: dev
          tiers:
            production:
              mode: enforce
              approved: [registry.example.com]
            staging:
              mode: warn
              approved: [registry.example.com]
              manualPullSecrets: deny
            dev:
              mode: enforce
              approved: [registry.example.com]
              manualPullSecrets: allow
          exceptions:
            - name: legacy-batch
              reason: Vendor pull Secret until the vendor registry is mirrored (TICKET-77)
              owner: batch@acme.example
              expires: 2099-12-31
              rules: [manual-pull-secret]
              namespaces: [legacy-staging]
        """;

    private static GateEngine Engine(IServiceAccountPullSecrets? accounts = null) =>
        new(new StaticPolicyProvider(PolicyLoader.LoadText(PolicyText, "pull-secrets.yaml")), CheckPipeline.Create(), TimeProvider.System,
            workloadChecks: CheckPipeline.CreateWorkloadChecks(accounts));

    /// <summary>A Pod (or, with <paramref name="kind"/>, a workload whose template holds the pod spec).</summary>
    internal static GateRequest Request(string ns, JsonObject podSpec, string kind = "Pod", JsonObject? oldPodSpec = null)
    {
        var workloadKind = kind == "Pod" ? WorkloadReader.FindKind(string.Empty, "Pod")! : WorkloadReader.FindKind("apps", kind)!;
        JsonElement Wrap(JsonObject spec)
        {
            JsonNode node = spec.DeepClone();
            for (var i = workloadKind.PodSpecPath.Length - 1; i >= 0; i--)
            {
                node = new JsonObject { [workloadKind.PodSpecPath[i]] = node };
            }

            node["kind"] = kind;
            node["metadata"] = new JsonObject { ["name"] = "api", ["namespace"] = ns };
            return JsonSerializer.SerializeToElement(node);
        }

        return new GateRequest
        {
            Uid = Guid.NewGuid().ToString(),
            Operation = oldPodSpec is null ? AdmissionOperation.Create : AdmissionOperation.Update,
            KindName = kind,
            Kind = workloadKind,
            Namespace = ns,
            Name = "api",
            Object = Wrap(podSpec),
            OldObject = oldPodSpec is null ? default : Wrap(oldPodSpec),
        };
    }

    internal static JsonObject Spec(string[]? pullSecrets = null, string? serviceAccount = null)
    {
        var spec = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "api", ["image"] = Image }) };
        if (pullSecrets is not null)
        {
            spec["imagePullSecrets"] = new JsonArray([.. pullSecrets.Select(s => (JsonNode)new JsonObject { ["name"] = s })]);
        }

        if (serviceAccount is not null)
        {
            spec["serviceAccountName"] = serviceAccount;
        }

        return spec;
    }

    [Fact]
    public async Task Production_warns_by_default_about_a_Secret_the_gate_did_not_create_and_points_at_the_credential_store()
    {
        var decision = await Engine().EvaluateAsync(Request("apps-prod", Spec(["regcred", JitName])), default);

        decision.Verdict.Should().Be(Verdict.Warn);
        decision.Reason.Should().Be(RuleNames.ManualPullSecret);
        decision.Warnings.Should().ContainSingle().Which.Should()
            .Be("container \"api\": imagePullSecret \"regcred\" was not created by AdmissionGate [rule manual-pull-secret, tier production mode warn]. Fix: "
                + ManualPullSecretCheck.Fix, "the whole warning fits kube-apiserver's 256 characters");
        decision.Findings.Should().ContainSingle(f => f.Rule == RuleNames.ManualPullSecret, "the JIT Secret is the gate's own");
    }

    [Fact]
    public async Task Deny_denies_even_in_a_warn_mode_tier_and_allow_says_nothing()
    {
        var denied = await Engine().EvaluateAsync(Request("web-staging", Spec(["regcred"])), default);
        var allowed = await Engine().EvaluateAsync(Request("team-a", Spec(["regcred"])), default);

        denied.Verdict.Should().Be(Verdict.Deny);
        denied.Message.Should().Be("Pod web-staging/api denied by AdmissionGate policy \"pull-secrets\" (tier staging from namespace name rule):\n"
            + "- container \"api\": imagePullSecret \"regcred\" was not created by AdmissionGate [rule manual-pull-secret]. Fix: " + ManualPullSecretCheck.Fix);
        allowed.Verdict.Should().Be(Verdict.Allow);
        allowed.Findings.Should().BeEmpty();
    }

    [Fact]
    public async Task Only_the_just_in_time_Secret_the_mutating_webhook_injected_passes_in_a_deny_tier()
    {
        var decision = await Engine().EvaluateAsync(Request("web-staging", Spec([JitName])), default);

        decision.Verdict.Should().Be(Verdict.Allow);
        JitSecretProvisioner.IsJitSecretName(JitName).Should().BeTrue();
        JitSecretProvisioner.IsJitSecretName("admission-gate-jit-regcred").Should().BeFalse("a look-alike without the hash and window is not the gate's");
        JitSecretProvisioner.IsJitSecretName(JitName + "x").Should().BeFalse();
    }

    [Theory]
    [InlineData("Deployment")]
    [InlineData("StatefulSet")]
    [InlineData("DaemonSet")]
    [InlineData("ReplicaSet")]
    public async Task A_template_naming_a_Secret_is_judged_like_a_Pod(string kind)
    {
        var decision = await Engine().EvaluateAsync(Request("web-staging", Spec(["regcred"]), kind), default);

        decision.Verdict.Should().Be(Verdict.Deny);
        decision.Message.Should().StartWith($"{kind} web-staging/api denied").And.Contain("imagePullSecret \"regcred\"");
    }

    [Fact]
    public async Task Without_Secrets_of_its_own_a_pod_spec_pulls_with_its_ServiceAccount_s_and_default_is_the_ServiceAccount_when_none_is_named()
    {
        var accounts = new ServiceAccounts { [("web-staging", "builder")] = ["builder-cred", JitName], [("web-staging", "default")] = ["default-cred"] };

        var named = await Engine(accounts).EvaluateAsync(Request("web-staging", Spec(serviceAccount: "builder"), "Deployment"), default);
        var unnamed = await Engine(accounts).EvaluateAsync(Request("web-staging", Spec(), "Deployment"), default);

        named.Message.Should().Contain("imagePullSecret \"builder-cred\" from ServiceAccount \"builder\" was not created by AdmissionGate").And.NotContain(JitName);
        unnamed.Message.Should().Contain("imagePullSecret \"default-cred\" from ServiceAccount \"default\"");
        accounts.Asked.Should().Equal(("web-staging", "builder"), ("web-staging", "default"));
    }

    [Fact]
    public async Task Own_Secrets_replace_the_ServiceAccount_s_as_the_ServiceAccount_admission_controller_does()
    {
        var accounts = new ServiceAccounts { [("web-staging", "builder")] = ["builder-cred"] };

        var decision = await Engine(accounts).EvaluateAsync(Request("web-staging", Spec([JitName], "builder"), "Deployment"), default);

        decision.Verdict.Should().Be(Verdict.Allow);
        accounts.Asked.Should().BeEmpty("the ServiceAccount's Secrets are not copied into a pod that names its own");
    }

    [Fact]
    public async Task A_ServiceAccount_the_cache_does_not_know_adds_nothing_and_blocks_nothing()
    {
        var decision = await Engine(new ServiceAccounts()).EvaluateAsync(Request("web-staging", Spec(serviceAccount: "brand-new"), "Deployment"), default);

        decision.Verdict.Should().Be(Verdict.Allow);
    }

    [Fact]
    public async Task On_update_a_Secret_the_old_object_already_named_is_only_warned_about_and_a_new_one_is_denied()
    {
        var kept = await Engine().EvaluateAsync(Request("web-staging", Spec(["regcred"]), "Deployment", oldPodSpec: Spec(["regcred"])), default);
        var added = await Engine().EvaluateAsync(Request("web-staging", Spec(["regcred", "other"]), "Deployment", oldPodSpec: Spec(["regcred"])), default);

        kept.Verdict.Should().Be(Verdict.Warn);
        kept.Warnings.Should().ContainSingle().Which.Should().EndWith("[rule manual-pull-secret]; admitted because the image is unchanged by this update");
        added.Verdict.Should().Be(Verdict.Deny);
        added.Message.Should().Contain("\"other\"").And.NotContain("\"regcred\"");
    }

    [Fact]
    public async Task An_unchanged_image_does_not_soften_a_new_Secret_on_update()
    {
        var decision = await Engine().EvaluateAsync(Request("web-staging", Spec(["regcred"]), "Deployment", oldPodSpec: Spec()), default);

        decision.Verdict.Should().Be(Verdict.Deny, "the container's image is unchanged, but the Secret is new");
    }

    [Fact]
    public async Task An_exception_naming_the_rule_waives_it_in_its_namespaces()
    {
        var decision = await Engine().EvaluateAsync(Request("legacy-staging", Spec(["vendor-cred"])), default);

        decision.Verdict.Should().Be(Verdict.Allow);
        decision.ExceptionsUsed.Should().ContainSingle().Which.Name.Should().Be("legacy-batch");
        decision.Warnings.Should().ContainSingle().Which.Should().Contain("admitted by exception \"legacy-batch\" (owner batch@acme.example, expires 2099-12-31) waiving rule manual-pull-secret");
    }

    [Theory]
    [InlineData("\"regcred\"", "spec.imagePullSecrets must be a list")]
    [InlineData("[\"regcred\"]", "spec.imagePullSecrets.0 must be an object")]
    [InlineData("[{\"name\": 7}]", "spec.imagePullSecrets.0.name must be a string, not number")]
    public async Task A_malformed_imagePullSecrets_is_a_bad_request_with_the_place(string value, string message)
    {
        var spec = Spec();
        spec["imagePullSecrets"] = JsonNode.Parse(value);

        var decision = await Engine().EvaluateAsync(Request("apps-prod", spec), default);

        decision.Code.Should().Be(400);
        decision.Message.Should().Be("Pod apps-prod/api cannot be read: " + message);
    }

    [Fact]
    public void The_default_is_warn_in_production_and_allow_elsewhere()
    {
        var policy = PolicyLoader.LoadText(TestSupport.TestPolicies.GateCoreText, "default.yaml");

        policy.Tiers[Tier.Production].ManualPullSecrets.Should().Be(ManualPullSecretAction.Warn);
        policy.Tiers[Tier.Staging].ManualPullSecrets.Should().Be(ManualPullSecretAction.Allow);
        policy.Tiers[Tier.Dev].ManualPullSecrets.Should().Be(ManualPullSecretAction.Allow);
    }

    [Fact]
    public void An_unknown_action_is_refused_at_its_line_and_pointer()
    {
        var text = PolicyText.Replace("manualPullSecrets: deny", "manualPullSecrets: block", StringComparison.Ordinal);

        var act = () => PolicyLoader.LoadText(text, "pull-secrets.yaml");

        act.Should().Throw<PolicyLoadException>().Which.Message.Should()
            .Contain("pull-secrets.yaml:18:7: /spec/tiers/staging/manualPullSecrets: value \"block\" is not one of: allow, warn, deny");
    }

    /// <summary>ServiceAccounts as the cache would report them; records what was asked.</summary>
    private sealed class ServiceAccounts : Dictionary<(string Namespace, string Name), string[]>, IServiceAccountPullSecrets
    {
        public List<(string, string)> Asked { get; } = [];

        public bool TryGetPullSecrets(string @namespace, string serviceAccount, out IReadOnlyList<string> secrets)
        {
            Asked.Add((@namespace, serviceAccount));
            var found = TryGetValue((@namespace, serviceAccount), out var names);
            secrets = names ?? [];
            return found;
        }
    }
}
