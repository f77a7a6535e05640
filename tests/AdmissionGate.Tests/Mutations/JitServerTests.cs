using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Credentials;
using AdmissionGate.Kubernetes;
using AdmissionGate.Mutations;
using AdmissionGate.Reconciler;
using AdmissionGate.Server;
using AdmissionGate.Tests.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AdmissionGate.Tests.Mutations;

/// <summary>The whole server as <c>serve</c> builds it: with a cluster (kubeconfig to the fake API) and without.</summary>
public sealed class JitServerTests : IAsyncLifetime
{
    private const string Registry = "registry.server.test:5000";
    private const string Password = "server-test-Pa55-distinct";
    private readonly string _dir = Directory.CreateTempSubdirectory("ag-jit-server-").FullName;
    private readonly CapturingLoggerProvider _logs = new();
    private FakeApiServer _api = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeApiServer.StartAsync();
        _api.AddNamespace("gate-system");
        _api.AddNamespace("team-x", new Dictionary<string, string> { ["admission-gate.io/tier"] = "dev" });
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task With_a_cluster_readiness_waits_for_namespaces_and_mutate_injects_a_pull_secret()
    {
        _api.ForbiddenTokens[_api.Token] = true; // the namespace list fails until RBAC is "fixed"
        var options = await ClusterOptionsAsync();
        await using var app = GateServer.Build(options, s => s.AddSingleton<ILoggerProvider>(_logs));
        await app.StartAsync();
        using var http = Client(app);

        await Eventually.TrueAsync(() => _api.Requests.Any(r => r.StartsWith("GET /api/v1/namespaces?", StringComparison.Ordinal) || r == "GET /api/v1/namespaces"), "the gate tried to list namespaces", TimeSpan.FromSeconds(30));
        (await http.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "namespace labels have not synced");
        _api.ForbiddenTokens.TryRemove(_api.Token, out _);
        // RBAC fixed: the next informer retry (about a second away, the backoff has barely started) must succeed.
        await Eventually.TrueAsync(async () => (await http.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode == HttpStatusCode.OK, "ready after the first namespace list", TimeSpan.FromSeconds(30));
        app.Lifetime.ApplicationStopping.IsCancellationRequested.Should().BeFalse("no hosted service failed and stopped the host");
        _logs.Text.Should().NotContain("BackgroundService failed");

        var response = await PostMutateAsync(http, "team-x", $"{Registry}/team/app:1");

        var patch = Encoding.UTF8.GetString(Convert.FromBase64String(response["response"]!["patch"]!.GetValue<string>()));
        using var client = _api.CreateClient();
        var secrets = await client.CoreV1.ListNamespacedSecretAsync("team-x", labelSelector: JitLabels.Selector);
        var name = secrets.Items.Should().ContainSingle("the tier label from the API makes the registry approved").Subject.Metadata.Name;
        patch.Should().Contain("/spec/imagePullSecrets").And.Contain(name!);

        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        metrics.Should().Contain($"admission_gate_jit_secrets_created_total{{registry=\"{Registry}\"}} 1");
        await Eventually.TrueAsync(async () => (await http.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Contains("admission_gate_registry_credential_expiry_timestamp_seconds{registry=\"" + Registry + "\"}", StringComparison.Ordinal), "expiry gauge published", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(async () => (await http.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Contains("admission_gate_reconciler_leader 1", StringComparison.Ordinal), "the only replica leads", TimeSpan.FromSeconds(30));
        (_logs.Text + metrics).Should().NotContain(Password);
        await app.StopAsync();
        _logs.Text.Should().NotContain("already running", "the lease is campaigned for by one runner only");
    }

    [Fact]
    public async Task With_a_cluster_one_hosted_service_runs_the_leader_elector()
    {
        var options = await ClusterOptionsAsync();

        await using var app = GateServer.Build(options);

        // Two runners race at start (BackgroundService.ExecuteAsync runs on the thread pool since .NET 10): the
        // loser throws, the host stops, and readiness stays 503 for good. The reconciler service runs the elector.
        var hosted = app.Services.GetServices<IHostedService>().ToList();
        hosted.OfType<JitReconcilerService>().Should().ContainSingle();
        hosted.OfType<LeaderElectionService>().Should().BeEmpty();
    }

    [Fact]
    public async Task Without_a_cluster_the_server_is_ready_and_mutates_nothing()
    {
        var options = new ServeOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), StateDirectory = Path.Combine(_dir, "state") };
        await using var app = GateServer.Build(options);
        await app.StartAsync();
        using var http = Client(app);

        await Eventually.TrueAsync(async () => (await http.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode == HttpStatusCode.OK, "ready", TimeSpan.FromSeconds(30));
        var response = await PostMutateAsync(http, "team-x", $"{Registry}/team/app:1");
        response["response"]!["allowed"]!.GetValue<bool>().Should().BeTrue();
        response["response"]!["patch"].Should().BeNull();
        app.Services.GetServices<IPodMutation>().OfType<JitPullSecretMutation>().Should().BeEmpty();
        await app.StopAsync();
    }

    [Fact]
    public void A_secret_store_without_a_cluster_is_refused_at_start()
    {
        var options = new ServeOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), StateDirectory = Path.Combine(_dir, "state"), CredentialStore = "secret:gate-system/creds", KekFile = "/nonexistent" };

        var build = () => GateServer.Build(options);

        build.Should().Throw<CredentialStoreUnavailableException>().WithMessage("*needs a cluster*");
    }

    private async Task<ServeOptions> ClusterOptionsAsync()
    {
        var kubeconfig = Path.Combine(_dir, "kubeconfig");
        await _api.WriteKubeconfigAsync(kubeconfig, "gate-system");
        var credentials = await PullCredentialFiles.WriteAsync(_dir, Registry, "robot", Password, DateTimeOffset.UtcNow.AddDays(7));

        var policy = Path.Combine(_dir, "policy.yaml");
        await File.WriteAllTextAsync(policy, DevRegistryPolicy.Yaml("server-test", Registry));
        return new ServeOptions
        {
            PolicyPath = policy,
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            StateDirectory = Path.Combine(_dir, "state"),
            KubeconfigPath = kubeconfig,
            CredentialStore = credentials.StoreLocation,
            KekFile = credentials.KekFile,
            Jit = new JitOptions { ReconcilePeriod = TimeSpan.FromMilliseconds(200) },
        };
    }

    private static HttpClient Client(WebApplication app)
    {
#pragma warning disable CA5400 // the server's certificate is a generated self-signed one
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
#pragma warning restore CA5400
        return new HttpClient(handler) { BaseAddress = app.Addresses().First(), Timeout = TimeSpan.FromSeconds(10) };
    }

    private static async Task<JsonObject> PostMutateAsync(HttpClient http, string ns, string image)
    {
        var review = AdmissionReviewBuilder.Pod(ns, "app").WithGenerateName("app-").MutatingStage().WithContainer("app", image).ToNode();
        using var content = new StringContent(review.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri("/mutate", UriKind.Relative), content);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }
}
