using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Checks.PullSecrets;
using AdmissionGate.Credentials;
using AdmissionGate.Mutations;
using AdmissionGate.Tests.Kubernetes.Fake;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using k8s;
using Xunit;

namespace AdmissionGate.Tests.Checks.PullSecrets;

/// <summary>
/// The webhook as <c>serve</c> builds it with a cluster (the fake API server over HTTPS holding ServiceAccounts) and a
/// credential store: ServiceAccounts come from the informer cache, and the Secret /mutate injects passes /validate.
/// </summary>
public sealed class ManualPullSecretServerTests : IAsyncLifetime
{
    private const string Registry = "registry.pull.test:5000";
    private const string Image = Registry + "/team/app:1";
    private readonly string _dir = Directory.CreateTempSubdirectory("ag-pull-secrets-").FullName;
    private FakeApiServer _api = null!;
    private GateServerFixture _gate = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeApiServer.StartAsync();
        _api.AddNamespace("gate-system");
        _api.AddNamespace("apps-prod");
        _api.AddServiceAccount("apps-prod", "builder", "legacy-regcred");
        var kubeconfig = await _api.WriteKubeconfigAsync(Path.Combine(_dir, "kubeconfig"), "gate-system");
        var kekPath = Path.Combine(_dir, "kek");
        var storePath = Path.Combine(_dir, "store.json");
        using (var kek = Kek.Generate())
        {
            kek.WriteNewFile(kekPath);
            await new CredentialStore(new FileCredentialStoreBackend(storePath), kek).SetAsync(Registry, "robot", "pull-test-Pa55".AsMemory(), DateTimeOffset.UtcNow.AddDays(7));
        }

        _gate = await GateServerFixture.StartAsync($"""
            apiVersion: admission-gate.io/v1alpha1
            kind: GatePolicy
            metadata:
              name: pull-secrets-server
            spec:
              namespaces:
                defaultTier: production
                exempt: [kube-system, gate-system]
              tiers:
                production:
                  mode: enforce
                  approved: [{Registry}]
                  manualPullSecrets: deny
                staging:
                  mode: enforce
                  approved: [{Registry}]
                dev:
                  mode: enforce
                  approved: [{Registry}]
            """, o =>
        {
            o.KubeconfigPath = kubeconfig;
            o.CredentialStore = "file:" + storePath;
            o.KekFile = kekPath;
        });
    }

    public async Task DisposeAsync()
    {
        await _gate.DisposeAsync();
        await _api.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_Deployment_pulling_through_its_ServiceAccount_is_judged_from_the_cache_which_follows_changes()
    {
        var deployment = AdmissionReviewBuilder.Deployment("apps-prod", "api").WithServiceAccount("builder").WithContainer("api", Image);

        var denied = await EventuallyAsync(() => _gate.ReviewAsync(deployment), a => !a.Allowed, "the ServiceAccount cache has synced");

        denied.Code.Should().Be(403);
        denied.Message.Should().Be("Deployment apps-prod/api denied by AdmissionGate policy \"pull-secrets-server\" (tier production from default tier):\n"
            + "- container \"api\": imagePullSecret \"legacy-regcred\" from ServiceAccount \"builder\" was not created by AdmissionGate [rule manual-pull-secret]. Fix: "
            + ManualPullSecretCheck.Fix);
        denied.Audit("reason").Should().Be("manual-pull-secret");
        Exposition.Parse(await _gate.MetricsAsync())
            .Value("admission_gate_findings_total", ("rule", "manual-pull-secret"), ("effect", "deny"), ("tier", "production")).Should().BeGreaterThanOrEqualTo(1);
        (await _gate.ReviewAsync(AdmissionReviewBuilder.Deployment("apps-prod", "new").WithServiceAccount("not-yet-cached").WithContainer("api", Image)))
            .Allowed.Should().BeTrue("a ServiceAccount the cache does not know adds nothing and blocks nothing");

        _api.AddServiceAccount("apps-prod", "builder"); // its pull Secret removed: a watch MODIFIED event

        await EventuallyAsync(() => _gate.ReviewAsync(deployment), a => a.Allowed, "the cache saw the ServiceAccount change");
        _api.Requests.Should().Contain(r => r.StartsWith("GET /api/v1/serviceaccounts", StringComparison.Ordinal), "one cluster-wide list/watch")
            .And.NotContain(r => r.Contains("/serviceaccounts/", StringComparison.Ordinal), "no ServiceAccount is fetched on the admission path");
    }

    [Fact]
    public async Task The_Secret_mutate_injects_before_validation_is_the_gate_s_own_and_a_hand_made_one_next_to_it_is_denied()
    {
        var mutated = await _gate.ReviewAsync(
            AdmissionReviewBuilder.Pod("apps-prod", "api").MutatingStage().WithPullSecrets("hand-made").WithContainer("api", Image), path: "/mutate");
        var patch = Encoding.UTF8.GetString(Convert.FromBase64String(mutated.Response.GetProperty("patch").GetString()!));
        using var client = _api.CreateClient();
        var jit = (await client.CoreV1.ListNamespacedSecretAsync("apps-prod", labelSelector: JitLabels.Selector))
            .Items.Should().ContainSingle().Subject.Metadata.Name!;
        patch.Should().Contain(jit);

        // What the API server then sends /validate: the Pod with the patch applied.
        var both = await _gate.ReviewAsync(AdmissionReviewBuilder.Pod("apps-prod", "api").WithPullSecrets("hand-made", jit).WithContainer("api", Image));
        var jitOnly = await _gate.ReviewAsync(AdmissionReviewBuilder.Pod("apps-prod", "api").WithPullSecrets(jit).WithContainer("api", Image));

        both.Allowed.Should().BeFalse();
        both.Message.Should().Contain("imagePullSecret \"hand-made\" was not created by AdmissionGate").And.NotContain(jit);
        jitOnly.Allowed.Should().BeTrue(jitOnly.Body);
        jitOnly.Warnings.Should().BeEmpty();
    }

    private static async Task<AdmissionAnswer> EventuallyAsync(Func<Task<AdmissionAnswer>> review, Func<AdmissionAnswer, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var answer = await review();
            if (done(answer))
            {
                return answer;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, what);
            await Task.Delay(100);
        }
    }
}
