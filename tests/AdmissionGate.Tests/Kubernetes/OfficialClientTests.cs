using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using FluentAssertions;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace AdmissionGate.Tests.Kubernetes;

/// <summary>
/// KubernetesClient's typed calls against the fake API server: the calls the gate makes work, and the fake answers
/// as the real client expects (bodies, content types, Status errors, watch framing, MicroTime).
/// </summary>
public sealed class OfficialClientTests : IAsyncLifetime
{
    private FakeApiServer _server = null!;
    private k8s.Kubernetes _api = null!;

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
        Data = new Dictionary<string, byte[]> { [".dockerconfigjson"] = Encoding.UTF8.GetBytes(payload) },
    };

    private static V1Patch Merge(JsonObject body) => new(body.ToJsonString(), V1Patch.PatchType.MergePatch);

    private static long Rv(IMetadata<V1ObjectMeta> o) => long.Parse(o.Metadata.ResourceVersion, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Secret_create_get_list_delete_round_trip_with_server_assigned_metadata()
    {
        var created = await _api.CoreV1.CreateNamespacedSecretAsync(PullSecret("pull-1", "{\"auths\":{}}"), "team-a");
        created.Metadata.Uid.Should().NotBeNullOrEmpty();
        created.Metadata.NamespaceProperty.Should().Be("team-a");
        created.Metadata.CreationTimestamp.Should().NotBeNull();
        Rv(created).Should().BeGreaterThan(100);

        var fetched = await _api.CoreV1.ReadNamespacedSecretAsync("pull-1", "team-a");
        Encoding.UTF8.GetString(fetched.Data[".dockerconfigjson"]).Should().Be("{\"auths\":{}}");
        fetched.Metadata.ResourceVersion.Should().Be(created.Metadata.ResourceVersion);

        await _api.CoreV1.CreateNamespacedSecretAsync(PullSecret("other", "x", new() { ["app"] = "else" }), "team-a");
        var mine = await _api.CoreV1.ListNamespacedSecretAsync("team-a", labelSelector: "app.kubernetes.io/managed-by=admission-gate");
        mine.Items.Select(s => s.Metadata.Name).Should().Equal("pull-1");
        long.Parse(mine.Metadata.ResourceVersion, CultureInfo.InvariantCulture).Should().BeGreaterThanOrEqualTo(Rv(created));

        await _api.CoreV1.DeleteNamespacedSecretAsync("pull-1", "team-a", new V1DeleteOptions { Preconditions = new V1Preconditions { ResourceVersion = fetched.Metadata.ResourceVersion, Uid = fetched.Metadata.Uid } });
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => _api.CoreV1.ReadNamespacedSecretAsync("pull-1", "team-a"));
        gone.IsNotFound().Should().BeTrue();
        KubernetesJson.Deserialize<V1Status>(gone.Response.Content).Details.Name.Should().Be("pull-1");
    }

    [Fact]
    public async Task Errors_carry_the_api_status_and_never_the_request_body()
    {
        await _api.CoreV1.CreateNamespacedSecretAsync(PullSecret("dup", "a"), "team-a");
        var exists = await Assert.ThrowsAsync<HttpOperationException>(() => _api.CoreV1.CreateNamespacedSecretAsync(PullSecret("dup", "TOP-SECRET-PAYLOAD"), "team-a"));
        exists.IsConflict().Should().BeTrue();
        KubernetesJson.Deserialize<V1Status>(exists.Response.Content).Reason.Should().Be("AlreadyExists");
        exists.Describe().Should().Be("409 Conflict");
        exists.Message.Should().NotContain("TOP-SECRET-PAYLOAD");
        exists.Describe().Should().NotContain("TOP-SECRET-PAYLOAD");

        (await Assert.ThrowsAsync<HttpOperationException>(() => _api.CoreV1.CreateNamespacedSecretAsync(PullSecret("x", "a"), "missing-ns"))).IsNotFound().Should().BeTrue();
        (await Assert.ThrowsAsync<HttpOperationException>(() => _api.CoreV1.DeleteNamespacedSecretAsync("never-existed", "team-a"))).IsNotFound().Should().BeTrue();

        var current = await _api.CoreV1.ReadNamespacedSecretAsync("dup", "team-a");
        var staleUid = await Assert.ThrowsAsync<HttpOperationException>(() => _api.CoreV1.DeleteNamespacedSecretAsync("dup", "team-a", new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = Guid.NewGuid().ToString() } }));
        staleUid.IsConflict().Should().BeTrue();
        var staleRv = await Assert.ThrowsAsync<HttpOperationException>(() => _api.CoreV1.DeleteNamespacedSecretAsync("dup", "team-a", new V1DeleteOptions { Preconditions = new V1Preconditions { ResourceVersion = "1" } }));
        staleRv.IsConflict().Should().BeTrue();
        (await _api.CoreV1.ReadNamespacedSecretAsync("dup", "team-a")).Metadata.Uid.Should().Be(current.Metadata.Uid, "a failed precondition deletes nothing");
    }

    [Fact]
    public async Task Generate_name_and_owner_references_are_honoured()
    {
        var secret = PullSecret("", "a");
        secret.Metadata.Name = null;
        secret.Metadata.GenerateName = "gate-pull-";
        secret.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Pod", Name = "web-0", Uid = "1234", Controller = true }];
        var created = await _api.CoreV1.CreateNamespacedSecretAsync(secret, "team-a");
        created.Metadata.Name.Should().MatchRegex("^gate-pull-[a-z0-9]{5}$");

        var fetched = await _api.CoreV1.ReadNamespacedSecretAsync(created.Metadata.Name, "team-a");
        fetched.Metadata.OwnerReferences.Should().ContainSingle().Which.Uid.Should().Be("1234");
        fetched.Metadata.OwnerReferences[0].Controller.Should().BeTrue();
    }

    [Fact]
    public async Task Merge_and_json_patches_change_only_named_fields_and_honour_preconditions()
    {
        var created = await _api.CoreV1.CreateNamespacedSecretAsync(PullSecret("p", "v1"), "team-a");
        // Another writer adds an annotation.
        _server.Store.Mutate(FakeResource.Secrets, "team-a", "p", o => o["metadata"]!["annotations"] = new JsonObject { ["other/owner"] = "kept" });

        var merged = await _api.CoreV1.PatchNamespacedSecretAsync(Merge(new JsonObject
        {
            ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["rotated"] = "yes" } },
            ["data"] = new JsonObject { [".dockerconfigjson"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("v2")) },
        }), "p", "team-a");
        merged.Metadata.Annotations.Should().ContainKey("other/owner");
        merged.Metadata.Labels.Should().Contain("rotated", "yes").And.ContainKey("app.kubernetes.io/managed-by");
        Encoding.UTF8.GetString(merged.Data[".dockerconfigjson"]).Should().Be("v2");
        merged.Metadata.ResourceVersion.Should().NotBe(created.Metadata.ResourceVersion);

        var stale = Merge(new JsonObject { ["metadata"] = new JsonObject { ["resourceVersion"] = created.Metadata.ResourceVersion } });
        (await Assert.ThrowsAsync<HttpOperationException>(() => _api.CoreV1.PatchNamespacedSecretAsync(stale, "p", "team-a"))).IsConflict().Should().BeTrue();

        var jsonPatch = new V1Patch(new JsonArray(
            new JsonObject { ["op"] = "test", ["path"] = "/metadata/labels/rotated", ["value"] = "yes" },
            new JsonObject { ["op"] = "remove", ["path"] = "/metadata/labels/rotated" },
            new JsonObject { ["op"] = "add", ["path"] = "/metadata/labels/generation", ["value"] = "2" }).ToJsonString(), V1Patch.PatchType.JsonPatch);
        var patched = await _api.CoreV1.PatchNamespacedSecretAsync(jsonPatch, "p", "team-a");
        patched.Metadata.Labels.Should().NotContainKey("rotated").And.Contain("generation", "2");

        var failingTest = new V1Patch("""[{"op":"test","path":"/metadata/labels/generation","value":"1"}]""", V1Patch.PatchType.JsonPatch);
        var invalid = await Assert.ThrowsAsync<HttpOperationException>(() => _api.CoreV1.PatchNamespacedSecretAsync(failingTest, "p", "team-a"));
        invalid.StatusCode().Should().Be(422);
    }

    [Fact]
    public async Task String_data_is_stored_as_data()
    {
        var created = await _api.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "s" },
            StringData = new Dictionary<string, string> { ["password"] = "hunter2" },
        }, "team-a");
        created.StringData.Should().BeNull();
        Encoding.UTF8.GetString(created.Data["password"]).Should().Be("hunter2");
        created.ToString().Should().NotContain("hunter2").And.NotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("hunter2")));
    }

    [Fact]
    public async Task Pods_are_listed_by_label_and_field_selector_and_expose_pulled_image_ids()
    {
        _server.AddPod("team-a", "web-0", new Dictionary<string, string> { ["app"] = "web" }, "registry.example/web:1");
        _server.AddPod("team-a", "db-0", new Dictionary<string, string> { ["app"] = "db" }, "registry.example/db:1");
        _server.AddPod("team-b", "web-0", new Dictionary<string, string> { ["app"] = "web" }, "registry.example/web:1");
        _server.SetContainerImageId("team-a", "web-0", "c0", "registry.example/web:1", "docker-pullable://registry.example/web@sha256:" + new string('a', 64));

        (await _api.CoreV1.ListPodForAllNamespacesAsync(labelSelector: "app in (web)")).Items.Should().HaveCount(2);
        (await _api.CoreV1.ListNamespacedPodAsync("team-a", labelSelector: "app notin (web)")).Items.Should().ContainSingle(p => p.Metadata.Name == "db-0");
        var running = await _api.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "status.phase=Running");
        running.Items.Should().ContainSingle().Which.Metadata.NamespaceProperty.Should().Be("team-a");

        var pod = await _api.CoreV1.ReadNamespacedPodAsync("web-0", "team-a");
        pod.Spec.Containers.Single().Image.Should().Be("registry.example/web:1");
        pod.Status.ContainerStatuses.Single().ImageID.Should().EndWith(new string('a', 64));

        var bad = await Assert.ThrowsAsync<HttpOperationException>(() => _api.CoreV1.ListPodForAllNamespacesAsync(labelSelector: "app in (web"));
        bad.StatusCode().Should().Be(400);
    }

    [Fact]
    public async Task Namespaces_are_readable_with_their_labels()
    {
        (await _api.CoreV1.ReadNamespaceAsync("team-a")).Metadata.Labels.Should().Contain("tier", "prod");
        (await _api.CoreV1.ListNamespaceAsync(labelSelector: "tier=dev")).Items.Should().ContainSingle(n => n.Metadata.Name == "team-b");
        (await Assert.ThrowsAsync<HttpOperationException>(() => _api.CoreV1.ReadNamespaceAsync("nope"))).IsNotFound().Should().BeTrue();
    }

    [Fact]
    public async Task Lease_replace_is_optimistic_keeps_fields_and_writes_micro_time()
    {
        var lease = await _api.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = "l" },
            Spec = new V1LeaseSpec { HolderIdentity = "a", LeaseDurationSeconds = 15, RenewTime = DateTime.UtcNow },
        }, "team-a");
        _server.Store.Mutate(FakeResource.Leases, "team-a", "l", o =>
        {
            o["spec"]!["strategy"] = "OldestEmulationVersion";
            o["metadata"]!["managedFields"] = new JsonArray(new JsonObject { ["manager"] = "kube-controller-manager" });
        });
        var fresh = await _api.CoordinationV1.ReadNamespacedLeaseAsync("l", "team-a");
        fresh.Spec.HolderIdentity = "b";
        var updated = await _api.CoordinationV1.ReplaceNamespacedLeaseAsync(fresh, "l", "team-a");
        updated.Spec.HolderIdentity.Should().Be("b");
        updated.Spec.RenewTime.Should().BeCloseTo(DateTime.UtcNow, TimeSpan.FromMinutes(1));

        var stored = _server.Store.Peek(FakeResource.Leases, "team-a", "l")!;
        stored["spec"]!["strategy"]!.GetValue<string>().Should().Be("OldestEmulationVersion");
        stored["metadata"]!["managedFields"]![0]!["manager"]!.GetValue<string>().Should().Be("kube-controller-manager");
        stored["spec"]!["renewTime"]!.GetValue<string>().Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$");

        lease.Spec.HolderIdentity = "c"; // stale resourceVersion
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => _api.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, "l", "team-a"));
        conflict.IsConflict().Should().BeTrue();
        KubernetesJson.Deserialize<V1Status>(conflict.Response.Content).Message.Should().Contain("the object has been modified");
    }

    [Fact]
    public async Task Watch_streams_changes_after_a_resource_version_and_honours_timeout_seconds()
    {
        var list = await _api.CoreV1.ListNamespacedSecretAsync("team-a");
        var started = DateTime.UtcNow;
        var events = new List<(WatchEventType Type, V1Secret Object)>();
        var errors = new List<Exception>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in _api.CoreV1.WatchListNamespacedSecretAsync("team-a", resourceVersion: list.Metadata.ResourceVersion, timeoutSeconds: 2, onError: errors.Add))
            {
                lock (events)
                {
                    events.Add(e);
                }
            }
        });

        await _api.CoreV1.CreateNamespacedSecretAsync(PullSecret("w", "1"), "team-a");
        await _api.CoreV1.PatchNamespacedSecretAsync(Merge(new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["x"] = "y" } } }), "w", "team-a");
        await _api.CoreV1.DeleteNamespacedSecretAsync("w", "team-a");
        await _api.CoreV1.CreateNamespacedSecretAsync(PullSecret("elsewhere", "1"), "team-b");
        await watching.WaitAsync(TimeSpan.FromSeconds(15));

        (DateTime.UtcNow - started).Should().BeGreaterThan(TimeSpan.FromSeconds(1.5), "the server ends the stream after timeoutSeconds");
        errors.Should().BeEmpty();
        events.Select(e => e.Type).Should().Equal(WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted);
        events.Select(e => Rv(e.Object)).Should().BeInAscendingOrder();
        events[1].Object.Metadata.Labels.Should().Contain("x", "y");
    }

}
