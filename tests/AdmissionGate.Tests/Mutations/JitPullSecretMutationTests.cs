using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AdmissionGate.Decisions;
using AdmissionGate.Kubernetes;
using AdmissionGate.Mutations;
using AdmissionGate.Tests.Kubernetes.Fake;
using AdmissionGate.Tests.Registry.Infrastructure;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace AdmissionGate.Tests.Mutations;

public sealed class JitPullSecretMutationTests(HtpasswdRegistryFixture registry, ITestOutputHelper output) : IClassFixture<HtpasswdRegistryFixture>, IAsyncLifetime
{
    private JitHarness _h = null!;

    private string Image => $"{registry.Registry}/payments/api:v1";

    public async Task InitializeAsync() => _h = await JitHarness.StartAsync(registry.Registry, RegistryFixture.User, RegistryFixture.Password);

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Pod_in_a_granted_namespace_gets_a_pull_secret_that_authenticates_against_the_real_registry()
    {
        var result = await _h.AdmitAsync(JitHarness.Granted, [Image]);

        result.Decision.Verdict.Should().Be(Verdict.Allow);
        var names = JitHarness.PatchedPullSecrets(result);
        names.Should().ContainSingle();
        var secret = _h.JitSecrets(JitHarness.Granted).Should().ContainSingle().Subject;
        secret.Metadata.Name.Should().Be(names[0]);
        secret.Type.Should().Be("kubernetes.io/dockerconfigjson");
        secret.Metadata.Labels.Should().Contain(JitLabels.ManagedBy, "admission-gate").And.Contain(JitLabels.Jit, "true")
            .And.Contain(JitLabels.Registry, JitSecretProvisioner.SanitizedHost(registry.Registry));
        secret.Metadata.Annotations.Should().ContainKey(JitLabels.ExpiresAtAnnotation).And.Contain(JitLabels.RegistryAnnotation, registry.Registry);

        // Use the Secret exactly as the kubelet would: the auths entry's auth field as Basic credentials.
        using var config = JsonDocument.Parse(secret.Data![".dockerconfigjson"]);
        var auth = config.RootElement.GetProperty("auths").GetProperty(registry.Registry).GetProperty("auth").GetString();
        using var http = new HttpClient { BaseAddress = registry.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        (await GetV2Async(http, auth!)).Should().Be(HttpStatusCode.OK);
        (await GetV2Async(http, Convert.ToBase64String("gate-user:not-the-password"u8))).Should().Be(HttpStatusCode.Unauthorized);
        _h.LogsAndMetrics().Should().NotContain(RegistryFixture.Password).And.NotContain(auth);
        _h.Exporter.Collect().Should().Contain("admission_gate_jit_secrets_created_total{registry=\"" + registry.Registry + "\"} 1");
    }

    [Fact]
    public async Task Namespace_without_a_grant_gets_no_secret()
    {
        var result = await _h.AdmitAsync(JitHarness.NotGranted, [Image]);

        result.Patch.Should().BeNull();
        _h.JitSecrets(JitHarness.NotGranted).Should().BeEmpty();
    }

    [Fact]
    public async Task Each_eligible_registry_gets_its_own_secret_and_grants_apply_per_registry()
    {
        await _h.Store.SetAsync("other.example.com", "robot2", "second-registry-Pa55".AsMemory(), _h.CredentialExpiry);
        string[] images = [Image, "other.example.com/team/app:1", Image + "-sidecar"];

        var granted = JitHarness.PatchedPullSecrets(await _h.AdmitAsync(JitHarness.Granted, images));
        var notGranted = JitHarness.PatchedPullSecrets(await _h.AdmitAsync(JitHarness.NotGranted, images));

        granted.Should().HaveCount(2).And.OnlyHaveUniqueItems();
        _h.JitSecrets(JitHarness.Granted).Select(s => s.Metadata.Annotations![JitLabels.RegistryAnnotation])
            .Should().BeEquivalentTo(registry.Registry, "other.example.com");
        notGranted.Should().ContainSingle("the granted-only registry is left out in a namespace without the grant");
        _h.JitSecrets(JitHarness.NotGranted).Single().Metadata.Annotations![JitLabels.RegistryAnnotation].Should().Be("other.example.com");
        _h.LogsAndMetrics().Should().NotContain("second-registry-Pa55");
    }

    [Fact]
    public async Task Registry_without_a_stored_credential_gets_nothing()
    {
        var result = await _h.AdmitAsync(JitHarness.Granted, ["other.example.com/team/app:1"]);

        result.Patch.Should().BeNull();
        result.Decision.Verdict.Should().Be(Verdict.Allow);
        _h.JitSecrets(JitHarness.Granted).Should().BeEmpty();
    }

    [Fact]
    public async Task Five_hundred_admissions_of_one_registry_create_one_secret()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => _h.AdmitAsync(JitHarness.Granted, [Image])));

        var names = results.SelectMany(JitHarness.PatchedPullSecrets).Distinct().ToList();
        names.Should().ContainSingle();
        _h.JitSecrets(JitHarness.Granted).Select(s => s.Metadata.Name).Should().Equal(names);
    }

    [Fact]
    public async Task A_second_replica_racing_for_the_same_secret_reuses_it_after_AlreadyExists()
    {
        var otherReplica = new JitSecretProvisioner(_h.Api, _h.Store, _h.Options, _h.Metrics, _h.Clock, _h.Logs.CreateLogger<JitSecretProvisioner>());

        var first = await _h.AdmitAsync(JitHarness.Granted, [Image]);
        var second = await otherReplica.EnsureAsync(JitHarness.Granted, registry.Registry, dryRun: false, CancellationToken.None);

        second.SecretName.Should().Be(JitHarness.PatchedPullSecrets(first).Single());
        _h.JitSecrets(JitHarness.Granted).Should().ContainSingle();
    }

    [Fact]
    public async Task After_the_reuse_window_a_new_secret_is_created()
    {
        var first = JitHarness.PatchedPullSecrets(await _h.AdmitAsync(JitHarness.Granted, [Image])).Single();
        _h.Clock.Advance(_h.Options.ReuseWindow);
        var second = JitHarness.PatchedPullSecrets(await _h.AdmitAsync(JitHarness.Granted, [Image])).Single();

        second.Should().NotBe(first);
        _h.JitSecrets(JitHarness.Granted).Should().HaveCount(2);
    }

    [Fact]
    public async Task Dry_run_gets_the_patch_but_no_secret_is_created()
    {
        var result = await _h.AdmitAsync(JitHarness.Granted, [Image], dryRun: true);

        JitHarness.PatchedPullSecrets(result).Should().ContainSingle();
        _h.JitSecrets(JitHarness.Granted).Should().BeEmpty();
        _h.Server.Requests.Should().NotContain(r => r.StartsWith("POST", StringComparison.Ordinal));
    }

    [Fact]
    public async Task User_pull_secrets_are_kept_and_the_jit_secret_is_appended_once()
    {
        var result = await _h.AdmitAsync(JitHarness.Granted, [Image, Image + "-sidecar"], existingPullSecrets: ["team-secret"]);

        using var patch = JsonDocument.Parse(result.Patch!);
        var ops = patch.RootElement.EnumerateArray().Select(o => (o.GetProperty("op").GetString(), o.GetProperty("path").GetString())).ToList();
        ops.Should().Equal(("add", "/metadata/labels/admission-gate.io~1jit-pull-secret"), ("add", "/spec/imagePullSecrets/-"));
        var pullSecrets = _h.PatchedLastPod(result)["spec"]!["imagePullSecrets"]!.AsArray().Select(s => s!["name"]!.GetValue<string>());
        pullSecrets.Should().Equal("team-secret", JitHarness.PatchedPullSecrets(result).Single());
    }

    [Fact]
    public async Task The_pod_given_a_secret_is_labelled_in_the_same_patch_so_the_reconciler_can_select_it()
    {
        var withLabels = _h.PatchedLastPod(await _h.AdmitAsync(JitHarness.Granted, [Image]));
        var withoutLabels = _h.PatchedLastPod(await _h.AdmitAsync(JitHarness.Granted, [Image], withoutLabels: true));

        var labels = withLabels["metadata"]!["labels"]!.AsObject();
        labels[JitPullSecretMutation.PodLabel]!.GetValue<string>().Should().Be("true");
        withoutLabels["metadata"]!["labels"]!.AsObject().Select(l => (l.Key, l.Value!.GetValue<string>()))
            .Should().Equal((JitPullSecretMutation.PodLabel, "true"));
        LabelSelector.Parse(JitPullSecretMutation.PodSelector).Matches(labels.ToDictionary(l => l.Key, l => l.Value!.GetValue<string>())).Should().BeTrue();
    }

    [Fact]
    public async Task A_pod_that_already_names_its_jit_secret_still_gets_the_label()
    {
        var name = JitHarness.PatchedPullSecrets(await _h.AdmitAsync(JitHarness.Granted, [Image])).Single();

        var result = await _h.AdmitAsync(JitHarness.Granted, [Image], existingPullSecrets: [name]);

        JitHarness.PatchedPullSecrets(result).Should().BeEmpty("the Secret is referenced already");
        _h.PatchedLastPod(result)["metadata"]!["labels"]![JitPullSecretMutation.PodLabel]!.GetValue<string>().Should().Be("true");
    }

    [Fact]
    public async Task Expired_credential_is_never_injected_and_the_pod_is_denied_with_how_to_rotate()
    {
        _h.Clock.Advance(_h.CredentialExpiry - _h.Clock.GetUtcNow() + TimeSpan.FromSeconds(1));

        var result = await _h.AdmitAsync(JitHarness.Granted, [Image]);

        result.Decision.Verdict.Should().Be(Verdict.Deny);
        result.Patch.Should().BeNull();
        var date = _h.CredentialExpiry.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        result.Decision.Message.Should().Contain($"credential for {registry.Registry} expired on {date} — rotate it with admission-gate credentials set --registry {registry.Registry}");
        _h.JitSecrets(JitHarness.Granted).Should().BeEmpty();
    }

    [Fact]
    public async Task An_expired_project_credential_is_never_replaced_by_the_host_wide_one_and_the_denial_names_the_project()
    {
        var project = $"{registry.Registry}/payments/";
        await _h.Store.SetAsync(project, "payments-robot", "project-Pa55-distinct".AsMemory(), _h.Clock.GetUtcNow().AddMinutes(5));
        _h.Clock.Advance(TimeSpan.FromMinutes(6));

        var result = await _h.AdmitAsync(JitHarness.Granted, [Image]);

        output.WriteLine(result.Decision.Message);
        result.Decision.Verdict.Should().Be(Verdict.Deny);
        result.Patch.Should().BeNull();
        result.Decision.Message.Should().Contain($"credential for {project} expired on ")
            .And.Contain($"rotate it with admission-gate credentials set --registry {project} --username USER");
        _h.JitSecrets(JitHarness.Granted).Should().BeEmpty("the host-wide credential is not a fallback for an expired project one");
        _h.LogsAndMetrics().Should().NotContain("project-Pa55-distinct");
    }

    private static async Task<HttpStatusCode> GetV2Async(HttpClient http, string basicAuth)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v2/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basicAuth);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Creating_a_secret_leaves_an_audit_event_with_the_fingerprint_and_never_the_password()
    {
        using var output = new StringWriter();
        using var audit = new AdmissionGate.Audit.SynchronousAuditLog(new AdmissionGate.Audit.TextWriterAuditSink(output));
        var provisioner = new JitSecretProvisioner(_h.Api, _h.Store, _h.Options, _h.Metrics, _h.Clock, _h.Logs.CreateLogger<JitSecretProvisioner>(), audit);

        var result = await provisioner.EnsureAsync(JitHarness.Granted, registry.Registry, dryRun: false, default);

        using var line = JsonDocument.Parse(output.ToString().Trim());
        var root = line.RootElement;
        root.GetProperty("type").GetString().Should().Be("jit-secret");
        root.GetProperty("action").GetString().Should().Be("created");
        root.GetProperty("secretName").GetString().Should().Be(result.SecretName);
        root.GetProperty("fingerprint").GetString().Should().NotBeNullOrEmpty();
        output.ToString().Should().NotContain(RegistryFixture.Password);
    }
}
