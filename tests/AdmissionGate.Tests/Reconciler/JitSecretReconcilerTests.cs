using System.Text.Json.Nodes;
using AdmissionGate.Kubernetes;
using AdmissionGate.Mutations;
using AdmissionGate.Reconciler;
using AdmissionGate.Tests.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using AdmissionGate.Tests.Mutations;
using FluentAssertions;
using k8s;
using k8s.Models;
using Xunit;

namespace AdmissionGate.Tests.Reconciler;

public sealed class JitSecretReconcilerTests : IAsyncLifetime
{
    private const string Registry = "registry.jit.test:5000";
    private const string Password = "reconciler-Pa55-distinct-value";
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(200);

    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private JitHarness _h = null!;

    private static string Image => $"{Registry}/payments/api:v1";

    public async Task InitializeAsync() => _h = await JitHarness.StartAsync(Registry, "robot", Password, options: new JitOptions
    {
        ReuseWindow = TimeSpan.FromMinutes(1),
        MinAge = TimeSpan.FromMinutes(2),
        OrphanGrace = TimeSpan.FromMinutes(5),
        HardTtl = TimeSpan.FromMinutes(15),
        ReconcilePeriod = Period,
    });

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_running).WaitAsync(TimeSpan.FromSeconds(10));
        _h.LogsAndMetrics().Should().NotContain(Password, "no credential value may reach logs or metrics");
        await _h.DisposeAsync();
    }

    private async Task<JitSecretReconciler> StartReconcilerAsync(JitOptions? options = null)
    {
        var reconciler = new JitSecretReconciler(_h.Api, options ?? _h.Options, _h.Metrics, _h.Clock, _h.Logs.CreateLogger<JitSecretReconciler>());
        _running.Add(reconciler.RunAsync(() => true, _stop.Token));
        await reconciler.Secrets.WaitForSyncAsync(_stop.Token).WaitAsync(TimeSpan.FromSeconds(10));
        await reconciler.Pods.WaitForSyncAsync(_stop.Token).WaitAsync(TimeSpan.FromSeconds(10));
        return reconciler;
    }

    private async Task<string> AdmitAsync() => JitHarness.PatchedPullSecrets(await _h.AdmitAsync(JitHarness.Granted, [Image])).Single();

    private V1Secret? Secret(string name) => _h.JitSecrets(JitHarness.Granted).SingleOrDefault(s => s.Metadata.Name == name);

    [Fact]
    public async Task Secret_gets_the_pod_as_owner_and_is_gone_within_a_period_after_the_pod_pulled()
    {
        await StartReconcilerAsync();
        var name = await AdmitAsync();
        var pod = _h.CreatePod(JitHarness.Granted, "web-7d9c-abcde", Image, name);
        var uid = pod["metadata"]!["uid"]!.GetValue<string>();
        await Task.Delay(Period * 3);
        Secret(name)!.Metadata.OwnerReferences.Should().BeNullOrEmpty("while the gate may still hand the Secret out, its pods must not take it with them");

        // Past the minimum age, but the image is not pulled yet: the Secret stays, now owned by its pod.
        _h.Clock.Advance(_h.Options.MinAge);
        await Eventually.TrueAsync(() => Secret(name)?.Metadata.OwnerReferences?.Any(o => o.Uid == uid && o.Kind == "Pod" && o.Name == "web-7d9c-abcde") == true, "the pod owns the Secret");
        await Task.Delay(Period * 3);
        Secret(name).Should().NotBeNull();

        _h.Server.SetContainerImageId(JitHarness.Granted, "web-7d9c-abcde", "c0", Image, "docker-pullable://" + Registry + "/payments/api@sha256:" + new string('a', 64));
        await Eventually.TrueAsync(() => Secret(name) is null, "the Secret is deleted after the pull", Period + TimeSpan.FromMilliseconds(800));
        _h.Exporter.Collect().Should().Contain("admission_gate_jit_secrets_deleted_total{reason=\"pulled\"} 1");
    }

    [Fact]
    public async Task Only_pods_labelled_by_the_mutation_are_listed_watched_and_made_owners()
    {
        var name = await AdmitAsync();
        _h.CreatePod(JitHarness.Granted, "admitted-before-upgrade", Image, name, labelled: false);
        _h.CreatePod(JitHarness.Granted, "labelled", Image, name);
        var reconciler = await StartReconcilerAsync();
        await Eventually.TrueAsync(() => _h.Server.Requests.Any(r => r.Contains("/pods?", StringComparison.Ordinal) && r.Contains("watch=true", StringComparison.Ordinal)), "the pod watch is open");

        // Watch events arrive in order: once the later labelled pod is cached, the unlabelled one was filtered out.
        _h.CreatePod(JitHarness.Granted, "unlabelled-later", Image, name, labelled: false);
        _h.CreatePod(JitHarness.Granted, "labelled-later", Image, name);
        await Eventually.TrueAsync(() => reconciler.Pods.TryGet(JitHarness.Granted, "labelled-later", out _), "the labelled pod is cached");

        reconciler.Pods.List().Select(p => p.Metadata.Name).Should().BeEquivalentTo("labelled", "labelled-later");
        var podRequests = _h.Server.Requests.Where(r => r.Contains("/pods", StringComparison.Ordinal)).ToList();
        podRequests.Should().HaveCountGreaterThanOrEqualTo(2, "one list and one watch")
            .And.OnlyContain(r => r.Contains("labelSelector=" + Uri.EscapeDataString(JitPullSecretMutation.PodSelector), StringComparison.Ordinal));
        _h.Clock.Advance(_h.Options.MinAge);
        await Eventually.TrueAsync(() => Secret(name)?.Metadata.OwnerReferences?.Count == 2, "the labelled pods own the Secret");
        Secret(name)!.Metadata.OwnerReferences!.Select(o => o.Name).Should().BeEquivalentTo("labelled", "labelled-later");
    }

    [Fact]
    public async Task The_garbage_collector_removes_the_secret_with_its_owning_pod()
    {
        await StartReconcilerAsync();
        var name = await AdmitAsync();
        var pod = _h.CreatePod(JitHarness.Granted, "short-lived", Image, name);
        var uid = pod["metadata"]!["uid"]!.GetValue<string>();
        _h.Clock.Advance(_h.Options.MinAge);
        await Eventually.TrueAsync(() => Secret(name)?.Metadata.OwnerReferences?.Any(o => o.Uid == uid) == true, "the pod owns the Secret");

        // With the reconciler stopped, only the owner reference can remove the Secret.
        await _stop.CancelAsync();
        await Task.WhenAll(_running);
        _h.Server.Store.Remove(FakeResource.Pods, JitHarness.Granted, "short-lived").Should().BeTrue();

        await Eventually.TrueAsync(() => Secret(name) is null, "the Secret went with its owner");
        _h.Exporter.Collect().Should().NotContain("admission_gate_jit_secrets_deleted_total{", "the reconciler deleted nothing");
    }

    [Fact]
    public async Task Nothing_is_left_after_the_hard_TTL_even_if_the_pod_never_starts()
    {
        await StartReconcilerAsync();
        var name = await AdmitAsync();
        _h.CreatePod(JitHarness.Granted, "never-starts", Image, name);

        _h.Clock.Advance(_h.Options.HardTtl - TimeSpan.FromSeconds(1));
        await Task.Delay(Period * 3);
        Secret(name).Should().NotBeNull("the TTL has not passed yet");

        _h.Clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => _h.JitSecrets(JitHarness.Granted).Count == 0, "no JIT Secret is left");
        _h.Exporter.Collect().Should().Contain("admission_gate_jit_secrets_deleted_total{reason=\"ttl\"} 1");
    }

    [Fact]
    public async Task A_replica_that_loses_the_lease_mid_pass_stops_writing()
    {
        var reconciler = new JitSecretReconciler(_h.Api, _h.Options, _h.Metrics, _h.Clock, _h.Logs.CreateLogger<JitSecretReconciler>());
        _running.Add(reconciler.RunAsync(() => false, _stop.Token)); // informers only: never leads on its own
        foreach (var name in new[] { "stale-1", "stale-2", "stale-3" })
        {
            _h.Server.Store.Create(FakeResource.Secrets, JitHarness.Granted, new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = name,
                    ["labels"] = new JsonObject { [JitLabels.Jit] = "true", [JitLabels.ManagedBy] = JitLabels.ManagedByValue },
                    ["annotations"] = new JsonObject { [JitLabels.CreatedAtAnnotation] = JitSecretProvisioner.Format(_h.Clock.GetUtcNow() - TimeSpan.FromHours(1)) },
                },
            }).Code.Should().Be(201);
        }

        await Eventually.TrueAsync(() => reconciler.Secrets.Count == 3, "the informer cached the stale Secrets");
        var leaseChecks = 0;
        await reconciler.ReconcileOnceAsync(() => ++leaseChecks == 1, CancellationToken.None);

        _h.JitSecrets(JitHarness.Granted).Should().HaveCount(2, "only the write made while still leading happened");
        leaseChecks.Should().Be(2);
    }

    [Fact]
    public async Task An_unused_secret_is_deleted_after_the_orphan_grace_period()
    {
        await StartReconcilerAsync();
        var name = await AdmitAsync();

        _h.Clock.Advance(_h.Options.OrphanGrace - TimeSpan.FromSeconds(1));
        await Task.Delay(Period * 3);
        Secret(name).Should().NotBeNull();

        _h.Clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => Secret(name) is null, "the orphan is deleted");
        _h.Exporter.Collect().Should().Contain("admission_gate_jit_secrets_deleted_total{reason=\"orphan\"} 1");
    }

    [Fact]
    public async Task Leftovers_from_before_a_restart_are_cleaned_up()
    {
        var name = await AdmitAsync();
        _h.CreatePod(JitHarness.Granted, "left-over", Image, name);
        _h.Clock.Advance(_h.Options.HardTtl);

        await StartReconcilerAsync();

        await Eventually.TrueAsync(() => Secret(name) is null, "the leftover is deleted by a freshly started reconciler");
    }

    [Fact]
    public async Task PodLifetime_mode_keeps_the_secret_while_the_pod_lives_and_deletes_it_once_the_pod_is_gone()
    {
        var options = new JitOptions
        {
            ReuseWindow = _h.Options.ReuseWindow,
            MinAge = _h.Options.MinAge,
            OrphanGrace = _h.Options.OrphanGrace,
            HardTtl = _h.Options.HardTtl,
            ReconcilePeriod = Period,
            Mode = JitSecretMode.PodLifetime,
        };
        await StartReconcilerAsync(options);
        var provisioner = new JitSecretProvisioner(_h.Api, _h.Store, options, _h.Metrics, _h.Clock, _h.Logs.CreateLogger<JitSecretProvisioner>());
        var name = (await provisioner.EnsureAsync(JitHarness.Granted, Registry, dryRun: false, CancellationToken.None)).SecretName!;
        _h.CreatePod(JitHarness.Granted, "always-pull", Image, name);
        _h.Clock.Advance(_h.Options.MinAge);
        await Eventually.TrueAsync(() => Secret(name)?.Metadata.OwnerReferences?.Count == 1, "the pod owns the Secret");
        _h.Server.SetContainerImageId(JitHarness.Granted, "always-pull", "c0", Image, "docker-pullable://" + Registry + "/payments/api@sha256:" + new string('b', 64));

        _h.Clock.Advance(_h.Options.HardTtl + TimeSpan.FromMinutes(1));
        await Task.Delay(Period * 3);
        Secret(name).Should().NotBeNull("the pod still lives and may pull again");

        _h.Server.Store.Remove(FakeResource.Pods, JitHarness.Granted, "always-pull").Should().BeTrue();
        await Eventually.TrueAsync(() => Secret(name) is null, "the Secret goes with its last pod");
    }

    [Fact]
    public async Task API_failures_are_counted_and_retried_next_period()
    {
        await StartReconcilerAsync();
        var name = await AdmitAsync();
        await Eventually.TrueAsync(() => _h.Exporter.Collect().Contains("admission_gate_jit_secrets_live 1", StringComparison.Ordinal), "the reconciler sees the Secret");
        _h.Server.ForbiddenTokens[_h.Server.Token] = true;

        _h.Clock.Advance(_h.Options.OrphanGrace);
        await Eventually.TrueAsync(() => _h.Exporter.Collect().Contains("admission_gate_reconcile_errors_total ", StringComparison.Ordinal), "the failed delete is counted");
        _h.Server.Store.Peek(FakeResource.Secrets, JitHarness.Granted, name).Should().NotBeNull("the delete was refused");
        _h.Server.ForbiddenTokens.TryRemove(_h.Server.Token, out _);

        await Eventually.TrueAsync(() => Secret(name) is null && _h.Exporter.Collect().Contains("admission_gate_jit_secrets_deleted_total{reason=\"orphan\"} 1", StringComparison.Ordinal), "deleted once the API allows it");
    }

    [Fact]
    public void Decider_requires_an_imageID_for_every_container_including_init_containers()
    {
        var pod = new V1Pod
        {
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "app" }], InitContainers = [new V1Container { Name = "init" }] },
            Status = new V1PodStatus { ContainerStatuses = [new V1ContainerStatus { Name = "app", ImageID = "sha256:x" }] },
        };

        JitSecretDecider.HasPulledAllImages(pod).Should().BeFalse();
        pod.Status.InitContainerStatuses = [new V1ContainerStatus { Name = "init", ImageID = "" }];
        JitSecretDecider.HasPulledAllImages(pod).Should().BeFalse();
        pod.Status.InitContainerStatuses[0].ImageID = "sha256:y";
        JitSecretDecider.HasPulledAllImages(pod).Should().BeTrue();
    }
}
