using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Kubernetes;

public sealed class KubernetesApiTests : IAsyncLifetime
{
    private FakeApiServer _server = null!;
    private KubernetesApi _api = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _api = _server.CreateClient();
        _server.AddNamespace("team-a", new Dictionary<string, string> { ["tier"] = "prod" });
        _server.AddNamespace("team-b", new Dictionary<string, string> { ["tier"] = "dev" });
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _server.DisposeAsync();
    }

    private static V1Secret PullSecret(string name, string payload, Dictionary<string, string>? labels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels ?? new() { ["app.kubernetes.io/managed-by"] = "admission-gate" } },
        Type = "kubernetes.io/dockerconfigjson",
        Data = new() { [".dockerconfigjson"] = Encoding.UTF8.GetBytes(payload) },
    };

    [Fact]
    public async Task Secret_create_get_list_delete_round_trip_with_server_assigned_metadata()
    {
        var created = await _api.CreateSecretAsync("team-a", PullSecret("pull-1", "{\"auths\":{}}"));
        created.Metadata.Uid.Should().NotBeNullOrEmpty();
        created.Metadata.Namespace.Should().Be("team-a");
        long.Parse(created.Metadata.ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture).Should().BeGreaterThan(100);

        var fetched = await _api.GetSecretAsync("team-a", "pull-1");
        Encoding.UTF8.GetString(fetched.Data![".dockerconfigjson"]).Should().Be("{\"auths\":{}}");
        fetched.Metadata.ResourceVersion.Should().Be(created.Metadata.ResourceVersion);

        await _api.CreateSecretAsync("team-a", PullSecret("other", "x", new() { ["app"] = "else" }));
        var mine = await _api.ListSecretsAsync("team-a", new ListOptions { LabelSelector = "app.kubernetes.io/managed-by=admission-gate" });
        mine.Items.Select(s => s.Metadata.Name).Should().Equal("pull-1");
        long.Parse(mine.Metadata.ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture)
            .Should().BeGreaterThanOrEqualTo(long.Parse(created.Metadata.ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture));

        await _api.DeleteSecretAsync("team-a", "pull-1", new DeletePreconditions(ResourceVersion: fetched.Metadata.ResourceVersion, Uid: fetched.Metadata.Uid));
        var gone = await Assert.ThrowsAsync<KubernetesApiException>(() => _api.GetSecretAsync("team-a", "pull-1"));
        gone.IsNotFound.Should().BeTrue();
        gone.Code.Should().Be(404);
        gone.Status!.Details!.Name.Should().Be("pull-1");
    }

    [Fact]
    public async Task Errors_map_to_the_api_status()
    {
        await _api.CreateSecretAsync("team-a", PullSecret("dup", "a"));
        var exists = await Assert.ThrowsAsync<KubernetesApiException>(() => _api.CreateSecretAsync("team-a", PullSecret("dup", "TOP-SECRET-PAYLOAD")));
        exists.IsAlreadyExists.Should().BeTrue();
        exists.IsConflict.Should().BeFalse();
        exists.Code.Should().Be(409);
        exists.Message.Should().Contain("already exists").And.NotContain("TOP-SECRET-PAYLOAD");

        var noNs = await Assert.ThrowsAsync<KubernetesApiException>(() => _api.CreateSecretAsync("missing-ns", PullSecret("x", "a")));
        noNs.IsNotFound.Should().BeTrue();

        var deleteMissing = await Assert.ThrowsAsync<KubernetesApiException>(() => _api.DeleteSecretAsync("team-a", "never-existed"));
        deleteMissing.IsNotFound.Should().BeTrue();

        var current = await _api.GetSecretAsync("team-a", "dup");
        var staleUid = await Assert.ThrowsAsync<KubernetesApiException>(() => _api.DeleteSecretAsync("team-a", "dup", new DeletePreconditions(Uid: Guid.NewGuid().ToString())));
        staleUid.IsConflict.Should().BeTrue();
        staleUid.Reason.Should().Be(StatusReasons.Conflict);
        var staleRv = await Assert.ThrowsAsync<KubernetesApiException>(() => _api.DeleteSecretAsync("team-a", "dup", new DeletePreconditions(ResourceVersion: "1")));
        staleRv.IsConflict.Should().BeTrue();
        (await _api.GetSecretAsync("team-a", "dup")).Metadata.Uid.Should().Be(current.Metadata.Uid, "a failed precondition deletes nothing");
    }

    [Fact]
    public async Task Generate_name_and_owner_references_are_honoured()
    {
        var secret = PullSecret("", "a");
        secret.Metadata.Name = null;
        secret.Metadata.GenerateName = "gate-pull-";
        secret.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Pod", Name = "web-0", Uid = "1234", Controller = true }];
        var created = await _api.CreateSecretAsync("team-a", secret);
        created.Metadata.Name.Should().MatchRegex("^gate-pull-[a-z0-9]{5}$");

        var fetched = await _api.GetSecretAsync("team-a", created.Metadata.Name!);
        fetched.Metadata.OwnerReferences.Should().ContainSingle().Which.Uid.Should().Be("1234");
        fetched.Metadata.OwnerReferences![0].Controller.Should().BeTrue();
    }

    [Fact]
    public async Task Merge_patch_changes_only_named_fields_and_json_patch_supports_test_preconditions()
    {
        var created = await _api.CreateSecretAsync("team-a", PullSecret("p", "v1"));
        // Another writer adds an annotation we know nothing about.
        _server.Store.Mutate(FakeResource.Secrets, "team-a", "p", o => o["metadata"]!["annotations"] = new JsonObject { ["other/owner"] = "kept" });

        var merged = await _api.PatchSecretAsync("team-a", "p", KubernetesPatch.Merge(new JsonObject
        {
            ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["rotated"] = "yes" } },
            ["data"] = new JsonObject { [".dockerconfigjson"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("v2")) },
        }));
        merged.Metadata.Annotations.Should().ContainKey("other/owner");
        merged.Metadata.Labels.Should().Contain("rotated", "yes").And.ContainKey("app.kubernetes.io/managed-by");
        Encoding.UTF8.GetString(merged.Data![".dockerconfigjson"]).Should().Be("v2");
        merged.Metadata.ResourceVersion.Should().NotBe(created.Metadata.ResourceVersion);

        var stale = KubernetesPatch.Merge(new JsonObject { ["metadata"] = new JsonObject { ["resourceVersion"] = created.Metadata.ResourceVersion } });
        (await Assert.ThrowsAsync<KubernetesApiException>(() => _api.PatchSecretAsync("team-a", "p", stale))).IsConflict.Should().BeTrue();

        var jsonPatch = KubernetesPatch.Json(new JsonArray(
            new JsonObject { ["op"] = "test", ["path"] = "/metadata/labels/rotated", ["value"] = "yes" },
            new JsonObject { ["op"] = "remove", ["path"] = "/metadata/labels/rotated" },
            new JsonObject { ["op"] = "add", ["path"] = "/metadata/labels/generation", ["value"] = "2" }));
        var patched = await _api.PatchSecretAsync("team-a", "p", jsonPatch);
        patched.Metadata.Labels.Should().NotContainKey("rotated").And.Contain("generation", "2");

        var failingTest = KubernetesPatch.Json(new JsonArray(new JsonObject { ["op"] = "test", ["path"] = "/metadata/labels/generation", ["value"] = "1" }));
        var invalid = await Assert.ThrowsAsync<KubernetesApiException>(() => _api.PatchSecretAsync("team-a", "p", failingTest));
        invalid.Code.Should().Be(422);
        failingTest.ToString().Should().NotContain("generation");
    }

    [Fact]
    public async Task String_data_is_stored_as_data_and_secrets_never_print_their_values()
    {
        var created = await _api.CreateSecretAsync("team-a", new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "s" },
            StringData = new() { ["password"] = "hunter2" },
        });
        created.StringData.Should().BeNull();
        Encoding.UTF8.GetString(created.Data!["password"]).Should().Be("hunter2");
        created.ToString().Should().NotContain("hunter2").And.NotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("hunter2")));
    }

    [Fact]
    public async Task Pods_are_listed_by_label_and_field_selector_and_expose_pulled_image_ids()
    {
        _server.AddPod("team-a", "web-0", new Dictionary<string, string> { ["app"] = "web" }, "registry.example/web:1");
        _server.AddPod("team-a", "db-0", new Dictionary<string, string> { ["app"] = "db" }, "registry.example/db:1");
        _server.AddPod("team-b", "web-0", new Dictionary<string, string> { ["app"] = "web" }, "registry.example/web:1");
        _server.SetContainerImageId("team-a", "web-0", "c0", "registry.example/web:1", "docker-pullable://registry.example/web@sha256:" + new string('a', 64));

        (await _api.ListPodsAsync(null, new ListOptions { LabelSelector = "app in (web)" })).Items.Should().HaveCount(2);
        (await _api.ListPodsAsync("team-a", new ListOptions { LabelSelector = "app notin (web)" })).Items.Should().ContainSingle(p => p.Metadata.Name == "db-0");
        var running = await _api.ListPodsAsync(null, new ListOptions { FieldSelector = "status.phase=Running" });
        running.Items.Should().ContainSingle().Which.Metadata.Namespace.Should().Be("team-a");

        var pod = await _api.GetPodAsync("team-a", "web-0");
        pod.Spec!.Containers!.Single().Image.Should().Be("registry.example/web:1");
        pod.Status!.ContainerStatuses!.Single().ImageID.Should().EndWith(new string('a', 64));

        var bad = await Assert.ThrowsAsync<KubernetesApiException>(() => _api.ListPodsAsync(null, new ListOptions { LabelSelector = "app in (web" }));
        bad.Code.Should().Be(400);
    }

    [Fact]
    public async Task Namespaces_are_readable_with_their_labels()
    {
        (await _api.GetNamespaceAsync("team-a")).Metadata.Labels.Should().Contain("tier", "prod");
        (await _api.ListNamespacesAsync(new ListOptions { LabelSelector = "tier=dev" })).Items.Should().ContainSingle(n => n.Metadata.Name == "team-b");
        (await Assert.ThrowsAsync<KubernetesApiException>(() => _api.GetNamespaceAsync("nope"))).IsNotFound.Should().BeTrue();
    }

    [Fact]
    public async Task Lease_update_is_optimistic_and_keeps_fields_it_does_not_model()
    {
        var lease = await _api.CreateLeaseAsync("team-a", new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = "l" },
            Spec = new V1LeaseSpec { HolderIdentity = "a", LeaseDurationSeconds = 15, RenewTime = DateTimeOffset.UtcNow },
        });
        // Fields from a newer API version that our model lacks.
        _server.Store.Mutate(FakeResource.Leases, "team-a", "l", o =>
        {
            o["spec"]!["strategy"] = "OldestEmulationVersion";
            o["metadata"]!["managedFields"] = new JsonArray(new JsonObject { ["manager"] = "kube-controller-manager" });
        });
        var fresh = await _api.GetLeaseAsync("team-a", "l");
        fresh.Spec!.HolderIdentity = "b";
        var updated = await _api.UpdateLeaseAsync("team-a", fresh);
        updated.Spec!.HolderIdentity.Should().Be("b");

        var stored = _server.Store.Peek(FakeResource.Leases, "team-a", "l")!;
        stored["spec"]!["strategy"]!.GetValue<string>().Should().Be("OldestEmulationVersion");
        stored["metadata"]!["managedFields"]![0]!["manager"]!.GetValue<string>().Should().Be("kube-controller-manager");
        stored["spec"]!["renewTime"]!.GetValue<string>().Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$");

        lease.Spec!.HolderIdentity = "c"; // stale resourceVersion
        var conflict = await Assert.ThrowsAsync<KubernetesApiException>(() => _api.UpdateLeaseAsync("team-a", lease));
        conflict.IsConflict.Should().BeTrue();
        conflict.ApiMessage.Should().Contain("the object has been modified");
    }

    [Fact]
    public async Task Watch_streams_changes_after_a_resource_version_and_honours_timeout_seconds()
    {
        var list = await _api.ListSecretsAsync("team-a");
        var started = DateTime.UtcNow;
        var events = new List<WatchEvent<V1Secret>>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in _api.WatchSecretsAsync("team-a", new WatchOptions { ResourceVersion = list.Metadata.ResourceVersion, TimeoutSeconds = 2, AllowWatchBookmarks = false }))
            {
                lock (events)
                {
                    events.Add(e);
                }
            }
        });

        await _api.CreateSecretAsync("team-a", PullSecret("w", "1"));
        await _api.PatchSecretAsync("team-a", "w", KubernetesPatch.Merge(new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["x"] = "y" } } }));
        await _api.DeleteSecretAsync("team-a", "w");
        await _api.CreateSecretAsync("team-b", PullSecret("elsewhere", "1"));
        await watching.WaitAsync(TimeSpan.FromSeconds(15));

        (DateTime.UtcNow - started).Should().BeGreaterThan(TimeSpan.FromSeconds(1.5), "the server ends the stream after timeoutSeconds");
        events.Select(e => e.Type).Should().Equal(WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted);
        events.Select(e => long.Parse(e.ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture)).Should().BeInAscendingOrder();
        events[1].Object!.Metadata.Labels.Should().Contain("x", "y");
    }

    [Fact]
    public void Watch_lines_parse_error_events_into_status()
    {
        var e = KubernetesApi.ParseWatchLine("""{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}""", KubernetesJsonContext.Default.V1Secret);
        e.Type.Should().Be(WatchEventType.Error);
        e.Error!.Code.Should().Be(410);
        var act = () => KubernetesApi.ParseWatchLine("""{"type":"SURPRISE","object":{}}""", KubernetesJsonContext.Default.V1Secret);
        act.Should().Throw<JsonException>();
    }
}
