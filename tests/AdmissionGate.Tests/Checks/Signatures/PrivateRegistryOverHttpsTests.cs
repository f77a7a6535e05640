using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Tests.Registry.Infrastructure;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>
/// The running HTTPS gate over a registry that needs credentials: a bundle attached by @sigstore/oci is found
/// through the referrers tag schema, and the gate authenticates its own lookups from the policy's dockerConfig or
/// from the credential store it was started with (<c>serve --credential-store</c>, written by <c>credentials set</c>).
/// </summary>
public sealed class PrivateRegistryOverHttpsTests(PrivateSignedRegistryFixture registry) : IClassFixture<PrivateSignedRegistryFixture>, IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static AdmissionReviewBuilder Pod(string image) => AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("app", image);

    private static Task<GateServerFixture> StartGateAsync(string policy, string? store = null, string? kek = null) =>
        GateServerFixture.StartAsync(configureOptions: o =>
        {
            o.PolicyPath = policy;
            o.CredentialStore = store;
            o.KekFile = kek;
        });

    /// <summary>A file store holding <paramref name="password"/> for <paramref name="host"/>, written by the real CLI.</summary>
    private async Task<(string Store, string Kek)> StoreWithAsync(string host, string password)
    {
        var store = "file:" + Path.Combine(_dir.Path, "store.json");
        var kek = Path.Combine(_dir.Path, "kek");
        await RunCliAsync(null, "credentials", "init-kek", "--kek-file", kek);
        await RunCliAsync(password + "\n", "credentials", "set", "--credential-store", store, "--kek-file", kek,
            "--registry", host, "--username", RegistryFixture.User, "--password-stdin", "--expires", "2099-01-01");
        return (store, kek);
    }

    /// <summary>The built admission-gate binary in a child process: stdin is the only way a secret goes in.</summary>
    private static async Task RunCliAsync(string? stdin, params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "admission-gate"), args)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(stdin ?? string.Empty);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        process.ExitCode.Should().Be(0, $"admission-gate {args[0]} {args[1]}: {await stdout}{await stderr}");
    }

    [Fact]
    public async Task A_bundle_attached_with_sigstore_oci_is_found_through_the_referrers_tag_and_admitted()
    {
        // The registry has no referrers API, so what the gate finds is the tag-schema index @sigstore/oci wrote.
        var digest = registry.Digests["signed"];
        var attached = JsonNode.Parse(registry.AttachedDescriptor)!;
        using var http = new HttpClient { BaseAddress = registry.Registry.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{RegistryFixture.User}:{RegistryFixture.Password}")));
        using (var api = await http.GetAsync($"v2/{PrivateSignedRegistryFixture.Repository}/referrers/{digest}"))
        {
            api.StatusCode.Should().Be(HttpStatusCode.NotFound);
        }

        using var indexRequest = new HttpRequestMessage(HttpMethod.Get, $"v2/{PrivateSignedRegistryFixture.Repository}/manifests/{digest.Replace(':', '-')}");
        indexRequest.Headers.Accept.ParseAdd("application/vnd.oci.image.index.v1+json");
        using var indexResponse = await http.SendAsync(indexRequest);
        var entry = JsonNode.Parse(await indexResponse.Content.ReadAsStringAsync())!["manifests"]!.AsArray().Should().ContainSingle().Subject!;
        entry["digest"]!.GetValue<string>().Should().Be(attached["digest"]!.GetValue<string>());
        entry["artifactType"]!.GetValue<string>().Should().StartWith("application/vnd.dev.sigstore.bundle");

        var config = registry.DockerConfig(RegistryFixture.User, RegistryFixture.Password);
        await using var gate = await StartGateAsync(registry.Policy($"{{insecure: true, timeoutSeconds: 2, credentials: {{dockerConfig: \"{config}\"}}}}"));
        var signed = await gate.ReviewAsync(Pod(registry.Pinned("signed")));
        var unsigned = await gate.ReviewAsync(Pod(registry.Pinned("unsigned")));

        signed.Allowed.Should().BeTrue(signed.Body);
        unsigned.Allowed.Should().BeFalse();
        unsigned.Message.Should().Contain($"authority \"ci\": no signature found for {registry.Digests["unsigned"]}");
    }

    [Fact]
    public async Task With_the_credential_store_the_gate_authenticates_signature_lookups_and_tag_resolution()
    {
        var (store, kek) = await StoreWithAsync(registry.Registry.Registry, RegistryFixture.Password);
        await using var gate = await StartGateAsync(registry.Policy("{insecure: true, timeoutSeconds: 2}", requirePinning: true), store, kek);

        var signed = await gate.ReviewAsync(Pod(registry.Pinned("signed")));
        var pinned = await gate.ReviewAsync(Pod(registry.Image("signed")), path: "/mutate");

        signed.Allowed.Should().BeTrue(signed.Body);
        pinned.Allowed.Should().BeTrue(pinned.Body);
        var patch = Encoding.UTF8.GetString(Convert.FromBase64String(pinned.Response.GetProperty("patch").GetString()!));
        patch.Should().Contain($"{registry.Image("signed")}@{registry.Digests["signed"]}");
    }

    [Fact]
    public async Task Without_a_stored_credential_for_the_registry_the_image_is_denied_with_an_auth_message()
    {
        var (store, kek) = await StoreWithAsync("other-registry.example.com", RegistryFixture.Password);
        await using var gate = await StartGateAsync(registry.Policy("{insecure: true, timeoutSeconds: 2}"), store, kek);

        var answer = await gate.ReviewAsync(Pod(registry.Pinned("signed")));

        answer.Allowed.Should().BeFalse();
        answer.Message.Should().Contain($"signatures of {registry.Digests["signed"]} cannot be read")
            .And.Contain($"Registry '{registry.Registry.Registry}' requires authentication that was not accepted")
            .And.Contain("(HTTP 401)");
    }

    [Fact]
    public async Task The_policys_docker_config_overrides_the_store_for_its_registry_and_no_secret_reaches_the_answer()
    {
        var (store, kek) = await StoreWithAsync(registry.Registry.Registry, "wrong-" + RegistryFixture.Password);
        var config = registry.DockerConfig(RegistryFixture.User, RegistryFixture.Password);
        await using var storeOnly = await StartGateAsync(registry.Policy("{insecure: true, timeoutSeconds: 2}"), store, kek);
        await using var overridden = await StartGateAsync(registry.Policy($"{{insecure: true, timeoutSeconds: 2, credentials: {{dockerConfig: \"{config}\"}}}}"), store, kek);

        var refused = await storeOnly.ReviewAsync(Pod(registry.Pinned("signed")));
        var admitted = await overridden.ReviewAsync(Pod(registry.Pinned("signed")));

        refused.Allowed.Should().BeFalse();
        refused.Message.Should().Contain("requires authentication that was not accepted");
        refused.Body.Should().NotContain(RegistryFixture.Password);
        admitted.Allowed.Should().BeTrue(admitted.Body);
    }
}
