using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AdmissionGate.Kubernetes;
using AdmissionGate.Mutations;
using AdmissionGate.Tests.Kubernetes.Fake;
using AdmissionGate.Tests.Registry.Infrastructure;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using k8s;
using k8s.Models;
using Xunit;

namespace AdmissionGate.Tests.Mutations;

/// <summary>
/// Credentials per project through the running gate: <c>/mutate</c> over HTTPS with a cluster (the fake API server),
/// a store written by <c>credentials set --registry HOST/team-a/</c>, and the real htpasswd registry the Secrets are for.
/// </summary>
public sealed class ProjectCredentialsOverHttpsTests(HtpasswdRegistryFixture registry) : IClassFixture<HtpasswdRegistryFixture>, IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private FakeApiServer _api = null!;
    private GateServerFixture _gate = null!;

    private string Host => registry.Registry;

    private string TeamA => $"{Host}/team-a/";

    public async Task InitializeAsync()
    {
        _api = await FakeApiServer.StartAsync();
        foreach (var ns in new[] { "gate-system", "team-a", "team-b", "team-c" })
        {
            _api.AddNamespace(ns);
        }

        var kubeconfig = await _api.WriteKubeconfigAsync(Path.Combine(_dir.Path, "kubeconfig"), "gate-system");
        var (store, kek) = await CredentialStoreCli.WriteAsync(_dir.Path,
            (Host, RegistryFixture.Password), (TeamA, RegistryFixture.Password), ($"{Host}/team-c/", RegistryFixture.Password));
        var policy = _dir.Write("policy.yaml", $$"""
            apiVersion: admission-gate.io/v1alpha1
            kind: GatePolicy
            metadata: {name: project-credentials}
            spec:
              namespaces: {defaultTier: dev, exempt: [kube-system]}
              tiers:
                production: {mode: enforce, approved: ["{{Host}}"]}
                staging: {mode: enforce, approved: ["{{Host}}"]}
                dev: {mode: enforce, approved: ["{{Host}}"]}
              grants:
                - {registry: "{{TeamA}}", namespaces: [team-a]}
                - {registry: "{{Host}}/team-a/shared/", namespaces: ["*"]}
                - {registry: "{{Host}}/team-c/", namespaces: [team-c], expires: 2020-01-01}
            """);
        _gate = await GateServerFixture.StartAsync(configureOptions: o =>
        {
            o.PolicyPath = policy;
            o.KubeconfigPath = kubeconfig;
            o.CredentialStore = store;
            o.KekFile = kek;
        });
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await _gate.Http1.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode != HttpStatusCode.OK)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the gate becomes ready once namespaces are listed");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        await _gate.DisposeAsync();
        await _api.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Images_of_two_projects_get_the_project_secret_and_the_host_wide_one_each_keyed_for_the_kubelet()
    {
        var answer = await MutateAsync("team-a", $"{TeamA}x:1", $"{Host}/team-b/y:1");

        answer.Allowed.Should().BeTrue(answer.Body);
        var secrets = await JitSecretsAsync("team-a");
        secrets.Select(s => s.Metadata.Annotations![JitLabels.RegistryAnnotation]).Should().BeEquivalentTo(TeamA, Host);
        Patch(answer).Should().Contain(secrets[0].Metadata.Name!).And.Contain(secrets[1].Metadata.Name!);
        var project = secrets.Single(s => s.Metadata.Annotations![JitLabels.RegistryAnnotation] == TeamA);
        project.Metadata.Name.Should().MatchRegex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "a DNS subdomain name")
            .And.StartWith($"admission-gate-jit-{JitSecretProvisioner.SanitizedHost(Host)}-team-a-");
        project.Metadata.Name!.Length.Should().BeLessThanOrEqualTo(253);

        // The kubelet picks an auths entry by prefix of the image path: the project Secret names the project.
        var auth = AuthOf(project, TeamA);
        using var http = new HttpClient { BaseAddress = registry.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "v2/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", auth);
        (await http.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.OK);
        answer.Body.Should().NotContain(RegistryFixture.Password);
    }

    [Fact]
    public async Task Images_of_one_project_get_only_its_secret_and_the_same_again_for_the_next_pod()
    {
        var first = await MutateAsync("team-a", $"{TeamA}x:1", $"{TeamA}sidecar:2");
        var second = await MutateAsync("team-a", $"{TeamA}x:1");

        var secret = (await JitSecretsAsync("team-a")).Should().ContainSingle().Subject;
        secret.Metadata.Annotations![JitLabels.RegistryAnnotation].Should().Be(TeamA);
        Patch(first).Should().Contain(secret.Metadata.Name!);
        Patch(second).Should().Contain(secret.Metadata.Name!, "the name is deterministic per (namespace, credential)");
    }

    [Fact]
    public async Task A_namespace_not_granted_the_project_never_gets_its_robot_even_for_an_image_granted_to_everyone()
    {
        var answer = await MutateAsync("team-b", $"{Host}/team-a/shared/lib:1");

        answer.Allowed.Should().BeTrue(answer.Body);
        var secret = (await JitSecretsAsync("team-b")).Should().ContainSingle("the host-wide credential covers the image").Subject;
        secret.Metadata.Annotations![JitLabels.RegistryAnnotation].Should().Be(Host);
        using var config = JsonDocument.Parse(secret.Data![".dockerconfigjson"]);
        config.RootElement.GetProperty("auths").EnumerateObject().Select(p => p.Name).Should().Equal(Host);
    }

    [Fact]
    public async Task An_expired_grant_gets_no_secret()
    {
        var answer = await MutateAsync("team-c", $"{Host}/team-c/app:1");

        answer.Response.TryGetProperty("patch", out _).Should().BeFalse(answer.Body);
        (await JitSecretsAsync("team-c")).Should().BeEmpty("the grant of team-c/ expired on 2020-01-01: it restricts but no longer grants");
    }

    private Task<AdmissionAnswer> MutateAsync(string ns, params string[] images)
    {
        var review = AdmissionReviewBuilder.Pod(ns, "app").WithGenerateName("app-").MutatingStage();
        for (var i = 0; i < images.Length; i++)
        {
            review.WithContainer($"c{i}", images[i]);
        }

        return _gate.ReviewAsync(review, path: "/mutate");
    }

    private async Task<IList<V1Secret>> JitSecretsAsync(string ns)
    {
        using var client = _api.CreateClient();
        return (await client.CoreV1.ListNamespacedSecretAsync(ns, labelSelector: JitLabels.Selector)).Items;
    }

    private static string Patch(AdmissionAnswer answer) =>
        Encoding.UTF8.GetString(Convert.FromBase64String(answer.Response.GetProperty("patch").GetString()!));

    private static string AuthOf(V1Secret secret, string key)
    {
        using var config = JsonDocument.Parse(secret.Data![".dockerconfigjson"]);
        return config.RootElement.GetProperty("auths").GetProperty(key).GetProperty("auth").GetString()!;
    }
}
