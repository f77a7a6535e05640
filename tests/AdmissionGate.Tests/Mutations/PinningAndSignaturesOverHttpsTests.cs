using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Server;
using AdmissionGate.Tests.Checks.Signatures;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Xunit;

namespace AdmissionGate.Tests.Mutations;

/// <summary>
/// The real HTTPS server (port 0) over a real registry with signed images: /mutate pins tags, /validate enforces
/// pinning and signatures, and <c>check</c> reaches the same decisions on the same images.
/// </summary>
public sealed class PinningAndSignaturesOverHttpsTests(SignedRegistryFixture registry) : IClassFixture<SignedRegistryFixture>, IAsyncLifetime
{
    private readonly TempDirectory _state = new();
    private WebApplication _app = null!;
    private HttpClient _http = null!;
    private string _policyPath = null!;

    public async Task InitializeAsync()
    {
        _policyPath = SignatureTestPolicy.Write(registry, requirePinning: true);
        _app = GateServer.Build(new ServeOptions { PolicyPath = _policyPath, Listen = new IPEndPoint(IPAddress.Loopback, 0), StateDirectory = _state.Path });
        await _app.StartAsync();
        _http = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } }) { BaseAddress = _app.Addresses()[0] };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _state.Dispose();
    }

    private static JsonObject Pod(string image) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject { ["name"] = "api", ["namespace"] = "payments-prod" },
        ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = image }) },
    };

    private async Task<JsonNode> PostAsync(string path, string image)
    {
        var review = new JsonObject
        {
            ["apiVersion"] = "admission.k8s.io/v1",
            ["kind"] = "AdmissionReview",
            ["request"] = new JsonObject
            {
                ["uid"] = Guid.NewGuid().ToString(),
                ["kind"] = new JsonObject { ["group"] = "", ["version"] = "v1", ["kind"] = "Pod" },
                ["resource"] = new JsonObject { ["group"] = "", ["version"] = "v1", ["resource"] = "pods" },
                ["namespace"] = "payments-prod",
                ["name"] = "api",
                ["operation"] = "CREATE",
                ["userInfo"] = new JsonObject { ["username"] = "dev" },
                ["object"] = Pod(image),
            },
        };
        using var response = await _http.PostAsync(path + "?timeout=10s", new StringContent(review.ToJsonString(), Encoding.UTF8, "application/json"));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["response"]!;
    }

    [Fact]
    public async Task Mutate_pins_a_tag_to_the_registry_digest_with_a_json_patch()
    {
        var response = await PostAsync("/mutate", registry.Image("legacy"));

        response["allowed"]!.GetValue<bool>().Should().BeTrue();
        response["patchType"]!.GetValue<string>().Should().Be("JSONPatch");
        var patch = JsonNode.Parse(Convert.FromBase64String(response["patch"]!.GetValue<string>()))!.AsArray();
        patch.Should().ContainSingle();
        patch[0]!["op"]!.GetValue<string>().Should().Be("replace");
        patch[0]!["path"]!.GetValue<string>().Should().Be("/spec/containers/0/image");
        patch[0]!["value"]!.GetValue<string>().Should().Be($"{registry.Image("legacy")}@{registry.Digests["legacy"]}");
    }

    [Fact]
    public async Task Validate_denies_unpinned_images_where_pinning_is_required_with_the_fix()
    {
        var response = await PostAsync("/validate", registry.Image("legacy"));

        response["allowed"]!.GetValue<bool>().Should().BeFalse();
        var message = response["status"]!["message"]!.GetValue<string>();
        message.Should().Contain("[rule pinning]").And.Contain("is not pinned to a digest").And.Contain("@sha256:<digest>");
    }

    [Fact]
    public async Task Validate_admits_a_signed_pinned_image_and_denies_an_unsigned_one_naming_the_authority()
    {
        var signed = await PostAsync("/validate", $"{registry.Image("legacy")}@{registry.Digests["legacy"]}");
        var unsigned = await PostAsync("/validate", registry.Pinned("unsigned"));

        signed["allowed"]!.GetValue<bool>().Should().BeTrue(signed.ToJsonString());
        unsigned["allowed"]!.GetValue<bool>().Should().BeFalse();
        unsigned["status"]!["message"]!.GetValue<string>().Should().Contain("authority \"ci\": no signature found for " + registry.Digests["unsigned"]);
    }

    [Fact]
    public async Task Signature_metrics_are_exported()
    {
        await PostAsync("/validate", registry.Pinned("wrong-identity"));
        await PostAsync("/validate", registry.Pinned("wrong-identity"));

        var metrics = await _http.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        metrics.Should().Contain("admission_gate_signature_verifications").And.Contain("result=\"fail\"").And.Contain("authority=\"ci\"");
        metrics.Should().Contain("admission_gate_signature_cache_lookups").And.Contain("result=\"hit\"");
        // The registry client's own series are on the server's /metrics too (the registry-errors alert reads them).
        metrics.Should().Contain("admission_gate_registry_request_duration_seconds_count{");
    }

    [Fact]
    public async Task The_check_command_reaches_the_same_decisions_as_the_server()
    {
        foreach (var tag in new[] { "legacy", "bundle", "unsigned", "wrong-identity", "tampered" })
        {
            var image = registry.Pinned(tag);
            var server = (await PostAsync("/validate", image))["allowed"]!.GetValue<bool>();
            var manifest = _state.Write($"pod-{tag}.json", Pod(image).ToJsonString());

            var (exit, output, _) = await CliRunner.RunAsync("check", "--policy", _policyPath, manifest);

            (exit == 0).Should().Be(server, $"{tag}: server allowed={server}, check said:\n{output}");
            if (!server)
            {
                output.Should().Contain("signature rule \"release\"");
            }
        }
    }
}
