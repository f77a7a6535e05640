using System.Net;
using System.Net.Http.Headers;
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

/// <summary>The fake must behave like the API server where our code depends on it; these pin those semantics.</summary>
public sealed class FakeApiServerTests : IAsyncLifetime
{
    private FakeApiServer _server = null!;
    private HttpClient _http = null!;
    private k8s.Kubernetes _api = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _http = _server.CreateRawHttpClient();
        _api = _server.CreateClient();
        _server.AddNamespace("ns");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        _api.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<(HttpStatusCode Code, JsonObject Body)> SendAsync(HttpMethod method, string path, JsonNode? body = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        using var response = await _http.SendAsync(request);
        return (response.StatusCode, (JsonNode.Parse(await response.Content.ReadAsStringAsync()) as JsonObject)!);
    }

    [Fact]
    public async Task Every_write_bumps_one_global_resource_version_and_no_op_updates_do_not()
    {
        var v0 = _server.Store.ResourceVersion;
        var (code, created) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/ns/secrets", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "a" } });
        code.Should().Be(HttpStatusCode.Created);
        var (_, lease) = await SendAsync(HttpMethod.Post, "/apis/coordination.k8s.io/v1/namespaces/ns/leases", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "l" } });
        Rv(created).Should().Be(v0 + 1);
        Rv(lease).Should().Be(v0 + 2, "versions are global across resource types");

        var (same, unchanged) = await SendAsync(HttpMethod.Put, "/apis/coordination.k8s.io/v1/namespaces/ns/leases/l", lease);
        same.Should().Be(HttpStatusCode.OK);
        Rv(unchanged).Should().Be(v0 + 2);
        _server.Store.ResourceVersion.Should().Be(v0 + 2);
    }

    [Fact]
    public async Task Pod_status_is_a_subresource()
    {
        _server.AddPod("ns", "p", null, "img:1");
        var (_, pod) = await SendAsync(HttpMethod.Get, "/api/v1/namespaces/ns/pods/p");
        pod["status"] = new JsonObject { ["phase"] = "Running" };
        pod["metadata"]!["labels"] = new JsonObject { ["a"] = "b" };
        var (_, viaMain) = await SendAsync(HttpMethod.Put, "/api/v1/namespaces/ns/pods/p", pod);
        viaMain["status"]!["phase"]!.GetValue<string>().Should().Be("Pending", "the main resource ignores status");
        viaMain["metadata"]!["labels"]!["a"]!.GetValue<string>().Should().Be("b");

        var (code, viaStatus) = await SendAsync(HttpMethod.Patch, "/api/v1/namespaces/ns/pods/p/status",
            new JsonObject { ["status"] = new JsonObject { ["phase"] = "Running" }, ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["a"] = "changed" } } },
            "application/merge-patch+json");
        code.Should().Be(HttpStatusCode.OK);
        viaStatus["status"]!["phase"]!.GetValue<string>().Should().Be("Running");
        viaStatus["metadata"]!["labels"]!["a"]!.GetValue<string>().Should().Be("b", "the status subresource ignores everything else");
    }

    [Fact]
    public async Task Json_patch_supports_move_copy_replace_and_merge_patch_null_removes()
    {
        await SendAsync(HttpMethod.Post, "/api/v1/namespaces/ns/secrets", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "s", ["labels"] = new JsonObject { ["a"] = "1", ["b"] = "2" } },
        });
        var (code, patched) = await SendAsync(HttpMethod.Patch, "/api/v1/namespaces/ns/secrets/s", new JsonArray(
            new JsonObject { ["op"] = "move", ["from"] = "/metadata/labels/a", ["path"] = "/metadata/labels/moved" },
            new JsonObject { ["op"] = "copy", ["from"] = "/metadata/labels/b", ["path"] = "/metadata/labels/copied" },
            new JsonObject { ["op"] = "replace", ["path"] = "/metadata/labels/b", ["value"] = "3" },
            new JsonObject { ["op"] = "add", ["path"] = "/metadata/finalizers", ["value"] = new JsonArray("x") },
            new JsonObject { ["op"] = "add", ["path"] = "/metadata/finalizers/-", ["value"] = "y" }), "application/json-patch+json");
        code.Should().Be(HttpStatusCode.OK);
        var labels = patched["metadata"]!["labels"]!.AsObject();
        labels.Select(kv => $"{kv.Key}={kv.Value}").Should().BeEquivalentTo(["b=3", "moved=1", "copied=2"]);
        patched["metadata"]!["finalizers"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("x", "y");

        var (_, merged) = await SendAsync(HttpMethod.Patch, "/api/v1/namespaces/ns/secrets/s",
            new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["moved"] = null } } }, "application/merge-patch+json");
        merged["metadata"]!["labels"]!.AsObject().Select(kv => kv.Key).Should().BeEquivalentTo(["b", "copied"]);

        var (bad, status) = await SendAsync(HttpMethod.Patch, "/api/v1/namespaces/ns/secrets/s",
            new JsonArray(new JsonObject { ["op"] = "remove", ["path"] = "/metadata/labels/nope" }), "application/json-patch+json");
        bad.Should().Be(HttpStatusCode.UnprocessableEntity);
        status["kind"]!.GetValue<string>().Should().Be("Status");
    }

    [Fact]
    public async Task A_label_selector_watch_sees_objects_enter_and_leave_the_selection()
    {
        var from = (await _api.CoreV1.ListNamespacedSecretAsync("ns")).Metadata.ResourceVersion;
        var seen = new List<string>();
        var watch = Task.Run(async () =>
        {
            await foreach (var (type, secret) in _api.CoreV1.WatchListNamespacedSecretAsync("ns", resourceVersion: from, labelSelector: "role=pull", timeoutSeconds: 2))
            {
                seen.Add($"{type} {secret.Metadata.Name}");
            }
        });
        await _api.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "x", Labels = new Dictionary<string, string> { ["role"] = "other" } } }, "ns");
        await _api.CoreV1.PatchNamespacedSecretAsync(MergeLabels(new JsonObject { ["role"] = "pull" }), "x", "ns");
        await _api.CoreV1.PatchNamespacedSecretAsync(MergeLabels(new JsonObject { ["extra"] = "1" }), "x", "ns");
        await _api.CoreV1.PatchNamespacedSecretAsync(MergeLabels(new JsonObject { ["role"] = null }), "x", "ns");
        await watch.WaitAsync(TimeSpan.FromSeconds(10));
        seen.Should().Equal("Added x", "Modified x", "Deleted x");
    }

    private static V1Patch MergeLabels(JsonObject labels) =>
        new(new JsonObject { ["metadata"] = new JsonObject { ["labels"] = labels } }.ToJsonString(), V1Patch.PatchType.MergePatch);

    [Fact]
    public async Task A_watch_from_a_compacted_version_is_gone()
    {
        var old = (await _api.CoreV1.ListNamespacedSecretAsync("ns")).Metadata.ResourceVersion;
        _server.AddNamespace("bump");
        _server.Compact();
        var errors = new List<Exception>();
        var events = 0;
        await foreach (var _ in _api.CoreV1.WatchListNamespacedSecretAsync("ns", resourceVersion: old, timeoutSeconds: 5, onError: errors.Add))
        {
            events++;
        }

        events.Should().Be(0);
        errors.Should().ContainSingle().Which.Should().BeOfType<KubernetesException>().Which.Status.Code.Should().Be(410);

        _server.GoneAsHttpStatus = true;
        var act = async () =>
        {
            await foreach (var _ in _api.CoreV1.WatchListNamespacedSecretAsync("ns", resourceVersion: old, timeoutSeconds: 5))
            {
            }
        };
        (await act.Should().ThrowAsync<HttpOperationException>()).Which.IsGone().Should().BeTrue();
    }

    [Fact]
    public async Task An_authenticated_but_unauthorized_token_gets_forbidden()
    {
        _server.ForbiddenTokens["limited"] = true;
        using var limited = _server.CreateClient("limited");
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => limited.CoreV1.ListNamespacedSecretAsync("ns"));
        ex.StatusCode().Should().Be(403);
        var status = KubernetesJson.Deserialize<V1Status>(ex.Response.Content);
        status.Reason.Should().Be(StatusReasons.Forbidden);
        status.Message.Should().Contain("cannot list resource \"secrets\"");
    }

    [Fact]
    public async Task Unknown_paths_and_methods_get_status_errors()
    {
        (await SendAsync(HttpMethod.Get, "/api/v1/namespaces/ns/configmaps")).Code.Should().Be(HttpStatusCode.NotFound);
        (await SendAsync(HttpMethod.Post, "/api/v1/secrets", new JsonObject())).Code.Should().Be(HttpStatusCode.MethodNotAllowed);
        var (code, body) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/ns/secrets", new JsonObject { ["metadata"] = new JsonObject() });
        code.Should().Be(HttpStatusCode.UnprocessableEntity);
        body["reason"]!.GetValue<string>().Should().Be("Invalid");
    }

    private static long Rv(JsonObject o) => long.Parse(o["metadata"]!["resourceVersion"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Deleting_an_owner_collects_dependents_whose_owners_are_all_gone()
    {
        var a = _server.AddPod("ns", "owner-a", null, "img:1");
        var b = _server.AddPod("ns", "owner-b", null, "img:1");
        AddSecret("shared", a, b);
        AddSecret("only-a", a);
        AddSecret("orphaned-on-purpose", b);
        AddSecret("unowned");

        (await SendAsync(HttpMethod.Delete, "/api/v1/namespaces/ns/pods/owner-a")).Code.Should().Be(HttpStatusCode.OK);

        await Eventually.TrueAsync(() => _server.Store.Peek(FakeResource.Secrets, "ns", "only-a") is null, "the dependent of the deleted owner is collected");
        await Eventually.TrueAsync(() => OwnerUids("shared").Count == 1, "a dependent with a live owner only loses the dangling reference");
        OwnerUids("shared").Should().Equal(Uid(b));

        // Orphan propagation keeps the dependents and only drops their reference to the deleted owner.
        (await SendAsync(HttpMethod.Delete, "/api/v1/namespaces/ns/pods/owner-b", new JsonObject { ["propagationPolicy"] = "Orphan" })).Code.Should().Be(HttpStatusCode.OK);
        await Eventually.TrueAsync(() => OwnerUids("orphaned-on-purpose").Count == 0 && OwnerUids("shared").Count == 0, "the references to owner-b are dropped");
        _server.Store.Peek(FakeResource.Secrets, "ns", "orphaned-on-purpose").Should().NotBeNull();
        _server.Store.Peek(FakeResource.Secrets, "ns", "shared").Should().NotBeNull();
        _server.Store.Peek(FakeResource.Secrets, "ns", "unowned").Should().NotBeNull("objects without owners are never collected");
    }

    private static string Uid(JsonObject o) => o["metadata"]!["uid"]!.GetValue<string>();

    private void AddSecret(string name, params JsonObject[] owners) => _server.Store.Upsert(FakeResource.Secrets, new JsonObject
    {
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = "ns",
            ["ownerReferences"] = new JsonArray([.. owners.Select(o => (JsonNode)new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["name"] = o["metadata"]!["name"]!.GetValue<string>(), ["uid"] = Uid(o) })]),
        },
    });

    private List<string> OwnerUids(string secret) =>
        (_server.Store.Peek(FakeResource.Secrets, "ns", secret)?["metadata"]?["ownerReferences"] as JsonArray ?? []).Select(o => o!["uid"]!.GetValue<string>()).ToList();
}
