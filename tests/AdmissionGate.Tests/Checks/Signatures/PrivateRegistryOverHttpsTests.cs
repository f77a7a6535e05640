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
    private Task<(string Store, string Kek)> StoreWithAsync(string host, string password) =>
        CredentialStoreCli.WriteAsync(_dir.Path, (host, password));

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
    public async Task Lookups_in_a_project_authenticate_with_its_project_credential_and_elsewhere_with_the_host_wide_one()
    {
        // Only team-a's robot has the right password: a lookup that gets past authentication used it. The policy's
        // signature rule covers {host}/app and everything under it.
        var host = registry.Registry.Registry;
        var teamA = await PushAsync("app/team-a/api");
        var teamB = await PushAsync("app/team-b/api");
        var (store, kek) = await CredentialStoreCli.WriteAsync(_dir.Path, (host, "wrong-" + RegistryFixture.Password), ($"{host}/app/team-a/", RegistryFixture.Password));
        await using var gate = await StartGateAsync(registry.Policy("{insecure: true, timeoutSeconds: 2}"), store, kek);

        var inProject = await gate.ReviewAsync(Pod(teamA));
        var elsewhere = await gate.ReviewAsync(Pod(teamB));

        inProject.Allowed.Should().BeFalse("the image is unsigned");
        inProject.Message.Should().Contain($"no signature found for {teamA[(teamA.IndexOf('@') + 1)..]}").And.NotContain("authentication");
        elsewhere.Allowed.Should().BeFalse();
        elsewhere.Message.Should().Contain($"Registry '{host}' requires authentication that was not accepted");
        (inProject.Body + elsewhere.Body).Should().NotContain(RegistryFixture.Password);
    }

    private async Task<string> PushAsync(string repository)
    {
        using var pusher = registry.Registry.Pusher(repository);
        var image = await pusher.PushImageAsync("v1");
        return $"{registry.Registry.Registry}/{repository}@{image.Manifest.Digest}";
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
